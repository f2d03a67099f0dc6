import { openSlide } from '../engine/open.ts';
import { BlobSource } from '../engine/io/web/blob-source.ts';
import type { Slide } from '../engine/formats/slide-format.ts';
import { SlideError, toSlideError } from '../shared/errors.ts';

/**
 * How picked files become slides: one slide per file for TIFF/SVS; groupers put the files of a
 * multi-file slide together (DICOM: the instances of one series, by content; MIRAX: a .mrxs with
 * its folder, by path). `paths` are the files' paths inside the pick (folder picks). Files a
 * grouper neither groups, refuses nor returns in `rest` are skipped (not slide files).
 */
export type FileGrouper = (files: File[], paths: ReadonlyMap<File, string>) => Promise<{
  groups: File[][];
  rest: File[];
  /** Per group (same index): the files' names inside the slide, for drivers that find parts by name. */
  names?: string[][];
  /** Files that cannot form a slide as picked: one failed row each, with the grouper's reason. */
  refused?: { files: File[]; error: SlideError }[];
}>;

export interface FileGroup {
  files: File[];
  /** The parts' names for the engine (default: the file names). */
  names?: string[];
  error?: SlideError;
}

export async function groupFiles(files: File[], paths: ReadonlyMap<File, string>, groupers: readonly FileGrouper[]): Promise<FileGroup[]> {
  let rest = files;
  const groups: FileGroup[] = [];
  for (const g of groupers) {
    const r = await g(rest, paths);
    r.groups.forEach((files, i) => groups.push({ files, ...(r.names?.[i] ? { names: r.names[i] } : {}) }));
    for (const x of r.refused ?? []) groups.push({ files: x.files, error: x.error });
    rest = r.rest;
  }
  return [...groups, ...rest.map((f) => ({ files: [f] }))];
}

export type OpenedGroup = { files: File[]; slide: Slide } | { files: File[]; error: SlideError };

/**
 * Group the picked files and open each group with the drivers; failures are per group. A lone
 * file of a folder pick (its path has a folder) that no driver recognises is left out, not
 * reported: folders hold notes, exports and thumbnails next to slides. Picked one by one, an
 * unrecognised file is reported — the user chose it.
 */
export async function openGroups(files: File[], paths: ReadonlyMap<File, string>, groupers: readonly FileGrouper[]): Promise<OpenedGroup[]> {
  const out: OpenedGroup[] = [];
  for (const { files: group, names, error } of await groupFiles(files, paths, groupers)) {
    try {
      if (error) throw error;
      out.push({ files: group, slide: await openSlide(group.map((f, i) => new BlobSource(f, names?.[i] ?? f.name))) });
    } catch (e) {
      const err = toSlideError(e, group[0]?.name);
      if (err.code === 'NOT_RECOGNIZED' && group.length === 1 && (paths.get(group[0]!) ?? '').includes('/')) continue;
      out.push({ files: group, error: err });
    }
  }
  return out;
}
