import type { SlideEntry } from '../../state/batch-store.ts';
import { stagedFile } from '../../../upload/staging.ts';
import type { WizardEngine } from '../wsi-bulk-import/wizard-engine.ts';
import { downloadName } from './review-names.ts';

/** A zip without Zip64 holds at most 4 GiB and 65,535 entries (fflate writes no Zip64). */
const ZIP_LIMIT = 0xffffffff - 64 * 1024 * 1024;

type WritableDir = FileSystemDirectoryHandle;
type DirPicker = (o?: { mode?: 'readwrite'; id?: string }) => Promise<WritableDir>;

export function needsFolder(slide: SlideEntry): boolean {
  const outs = slide.staged?.outputs ?? [];
  return outs.length > 1 && (outs.reduce((n, o) => n + o.size, 0) > ZIP_LIMIT || outs.length > 65535);
}

/**
 * Saves a slide's de-identified copy: one file as is, a multi-file slide (DICOM instances; a MIRAX
 * .mrxs with its folder, names as the engine wrote them) as a zip made in the
 * worker, or — past what a zip without Zip64 holds — into a folder the user picks. Everything
 * streams from OPFS; nothing is read into the page's memory.
 */
export async function downloadStaged(slide: SlideEntry, engine: WizardEngine, zipPath: string): Promise<void> {
  const outs = slide.staged!.outputs;
  if (outs.length === 1) {
    saveBlob(await stagedFile(outs[0].opfsPath), downloadName(slide, outs));
    return;
  }
  if (!needsFolder(slide)) {
    await engine.zipStaged(outs.map((o) => o.opfsPath), outs.map((o) => o.name), zipPath);
    saveBlob(await stagedFile(zipPath), downloadName(slide, outs));
    return;
  }
  const pick = (globalThis as unknown as { showDirectoryPicker?: DirPicker }).showDirectoryPicker;
  if (!pick) throw new Error('this slide is larger than a zip file can hold; use Chrome or Edge to save it into a folder');
  const dir = await pick({ mode: 'readwrite', id: 'wsi-download' });
  for (const o of outs) {
    // A slide opened by its files' names (MIRAX: X.mrxs beside its X/ folder) keeps its layout;
    // DICOM instances go side by side.
    const segments = o.name.split('/');
    let into = dir;
    if (slide.format !== 'dicom-wsi') for (const d of segments.slice(0, -1)) into = await into.getDirectoryHandle(d, { create: true });
    const fh = await into.getFileHandle(segments.pop()!, { create: true });
    const w = await fh.createWritable();
    await (await stagedFile(o.opfsPath)).stream().pipeTo(w);
  }
}

export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  // The download has started reading by then; revoke later so it can finish.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
