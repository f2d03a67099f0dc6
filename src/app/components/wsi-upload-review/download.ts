import type { SlideEntry } from '../../state/batch-store.ts';
import { stagedFile } from '../../../upload/staging.ts';
import type { WizardEngine } from '../wsi-bulk-import/wizard-engine.ts';
import type { ZeroCopyEngine } from '../../../upload/batch-uploader.ts';
import type { RedactionRequest } from '../../../engine/redact/plan-types.ts';
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

/** What a zero-copy download writes into: the file the user picked (a FileSystemWritableFileStream). */
export interface SaveTarget {
  write(chunk: Blob): Promise<void>;
  close(): Promise<void>;
  abort(reason?: unknown): Promise<void>;
}
type SavePicker = (o?: { suggestedName?: string; id?: string }) => Promise<{ createWritable(): Promise<SaveTarget> }>;

/** Read at a time from the worker's checked reader: a few per second, bounded memory. */
const VIEW_CHUNK = 8 * 1024 * 1024;

/**
 * The browser's save picker, when it has one (Chromium): a download through the views streams
 * into the file it gives. Without it Download stages the copy as before.
 */
export function savePicker(): SavePicker | undefined {
  const p = (globalThis as unknown as { showSaveFilePicker?: SavePicker }).showSaveFilePicker;
  return typeof p === 'function' ? p : undefined;
}

/**
 * Ask where to save (inside the click: the picker needs the user's gesture). undefined when the
 * user dismissed it.
 */
export async function pickSaveTarget(pick: SavePicker, suggestedName: string): Promise<SaveTarget | undefined> {
  try {
    return await (await pick({ suggestedName, id: 'wsi-download' })).createWritable();
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') return undefined;
    throw e;
  }
}

/**
 * Zero-copy download (issue 15): the de-identified file read through the worker's views over the
 * original and written chunk by chunk into `target` — nothing staged. Every chunk is hashed and
 * swept in the worker before it is handed over, as for an upload: a removed value found stops the
 * download and the picked file is left as it was (the writable is aborted, never closed).
 */
export async function saveThroughViews(views: ZeroCopyEngine, slideId: string, files: File[], request: RedactionRequest, target: SaveTarget, onProgress: (f: number) => void): Promise<void> {
  let viewSetId: string | undefined;
  try {
    const opened = await views.openUploadViews(slideId, files, request);
    viewSetId = opened.viewSetId;
    const size = opened.outputs[0]?.size ?? 0;
    if (opened.outputs.length !== 1) throw new Error('this slide has several files; it cannot be saved as one');
    for (let at = 0; at < size; ) {
      const chunk = await views.readUploadChunk(viewSetId, 0, at, Math.min(VIEW_CHUNK, size - at));
      if (chunk.size === 0) throw new Error(`the de-identified file is shorter than planned (${at} of ${size} bytes)`);
      await target.write(chunk);
      at += chunk.size;
      onProgress(size > 0 ? at / size : 1);
    }
    await target.close();
  } catch (e) {
    await target.abort(e).catch(() => undefined);
    throw e;
  } finally {
    if (viewSetId) void Promise.resolve(views.closeUploadViews(viewSetId)).catch(() => undefined);
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
