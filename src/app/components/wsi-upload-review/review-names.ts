import type { SlideEntry, StagedOutput } from '../../state/batch-store.ts';
import { partPaths, uploadName } from '../../../shared/upload-name.ts';

/**
 * Names the review shows and the Download gives, derived from the same functions the uploader
 * uses (src/shared/upload-name.ts), so what the review promises is what the server receives.
 */

/** The name the server will get for a de-identified slide, in words for the review card. */
export function serverName(s: SlideEntry): string {
  if (s.format === 'dicom-wsi') return 'DICOM files named by level (level-0.dcm, …)';
  const paths = s.parts.map((p) => p.path);
  // A slide found by its files' names (MIRAX): the .mrxs and its folder get a neutral name.
  const named = partPaths(s, paths, true)[0];
  if (named) return `${named} (with its folder)`;
  return uploadName(s, paths[0] ?? s.name);
}

/**
 * The file name a Download saves: the name the server gets, with "-deidentified" before the
 * extension, so the copy is never mistaken for (or saved over) the original. A multi-file slide
 * is one zip under the slide's neutral name.
 */
export function downloadName(s: SlideEntry, outputs: Pick<StagedOutput, 'name'>[]): string {
  if (outputs.length !== 1) return `slide-${s.id.slice(0, 8)}-deidentified.zip`;
  const name = uploadName(s, outputs[0]!.name).replace(/[\\/:*?"<>|]/g, '_');
  const ext = /\.[A-Za-z0-9]{1,8}$/.exec(name)?.[0] ?? '';
  return `${name.slice(0, name.length - ext.length)}-deidentified${ext}`;
}
