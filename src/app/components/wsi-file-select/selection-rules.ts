import type { EngineInput, InspectOutcome } from '../wsi-bulk-import/wizard-engine.ts';

/**
 * What step 1 does with each picked file before and after the engine looks at it: zips and empty
 * files never go to the engine; in a folder pick, files that are not slides are left out with a
 * summary (folders hold notes, exports and thumbnails next to slides), while a file picked on its
 * own that is not a slide is an error — the user chose it.
 */

/** Extensions of slide files: in a folder, an unreadable file with one of these is an error, not skipped. */
export const SLIDE_EXTENSIONS: readonly string[] = ['.svs', '.tif', '.tiff', '.ndpi', '.scn', '.bif', '.mrxs', '.dcm'];

/** Step 1's pickers offer these (plus zipped DICOM). */
export const PICKER_EXTENSIONS: readonly string[] = [...SLIDE_EXTENSIONS, '.zip'];

export const ZIP_NEEDS_DIRECT = 'Zipped DICOM can only be sent with Direct Upload; unzip it to de-identify it';

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function extOf(path: string): string {
  const name = baseName(path);
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot).toLowerCase() : '';
}

export function isZipName(path: string): boolean {
  return extOf(path) === '.zip';
}

function looksLikeSlide(path: string): boolean {
  return SLIDE_EXTENSIONS.includes(extOf(path)) || isZipName(path);
}

export interface Triage {
  /** For the engine. */
  inspect: EngineInput[];
  /** Zipped DICOM folders: sent as they are with Direct Upload. */
  zips: EngineInput[];
  /** Empty files that look like slides (or were picked on their own): listed as empty. */
  empty: EngineInput[];
  /** Left out of a folder pick: not slides. */
  skipped: string[];
}

export function triage(inputs: EngineInput[], folder: boolean): Triage {
  const t: Triage = { inspect: [], zips: [], empty: [], skipped: [] };
  for (const i of inputs) {
    if (i.file.size === 0) {
      if (folder && !looksLikeSlide(i.path)) t.skipped.push(i.path);
      else t.empty.push(i);
    } else if (isZipName(i.path)) t.zips.push(i);
    else t.inspect.push(i);
  }
  return t;
}

/**
 * After inspecting a folder pick: files no slide took (the engine leaves out unrecognised files
 * below the top folder) and unrecognised files without a slide extension are skipped.
 */
export function leaveOutNonSlides(inputs: EngineInput[], outcomes: InspectOutcome[], folder: boolean): { outcomes: InspectOutcome[]; skipped: string[] } {
  if (!folder) return { outcomes, skipped: [] };
  const skipped: string[] = [];
  const kept = outcomes.filter((o) => {
    const alone = o.error?.code === 'NOT_RECOGNIZED' && o.paths.length === 1 && !looksLikeSlide(o.paths[0]!);
    if (alone) skipped.push(o.paths[0]!);
    return !alone;
  });
  const covered = new Set(outcomes.flatMap((o) => o.paths));
  for (const i of inputs) if (!covered.has(i.path)) skipped.push(i.path);
  return { outcomes: kept, skipped };
}

/**
 * An engine message as a sentence of its own: without the file name in front (the list shows the
 * name already) and starting with a capital.
 */
export function plainMessage(message: string, path: string): string {
  let m = message;
  for (const name of [path, baseName(path)]) if (m.startsWith(`${name}: `)) m = m.slice(name.length + 2);
  return m.charAt(0).toUpperCase() + m.slice(1);
}

/** "3 files were skipped: not slides (notes.txt, a.jpg, b.xml, …)". */
export function skippedSummary(paths: string[]): string {
  const n = paths.length;
  const shown = paths.slice(0, 3).map(baseName).join(', ') + (n > 3 ? ', …' : '');
  return n === 1 ? `1 file was skipped: not a slide (${shown}).` : `${n} files were skipped: not slides (${shown}).`;
}
