import { open, readdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { ErrorCode } from '../shared/errors.ts';
import { dicomCollector } from './dicom-collector.ts';
import { miraxCollector } from './mirax-collector.ts';
import { KEY_FILE } from './batch-key.ts';
import { MANIFEST_FILE } from './output-names.ts';

/** One slide to process: the files that make it up (one for TIFF/SVS) and its output name. */
export interface SlideInput {
  /**
   * Output name: the file's base name (TIFF) or a folder name (DICOM) built from the input
   * directory's name only, never from metadata (which may identify the patient).
   */
  name: string;
  kind: 'file' | 'folder';
  files: string[];
  /** What makes this input the same input on a retry (paths, series); only ever stored keyed-hashed. */
  identity: string;
}

/** A file a collector recognised but cannot use. */
export interface RejectedFile {
  file: string;
  code: ErrorCode;
  message: string;
  /**
   * A file of the format that is broken (a lost instance of a slide): always a failure. Otherwise
   * (e.g. DICOM that is not a whole-slide image) a failure only when named on the command line.
   */
  broken: boolean;
}

/**
 * A collector claims the files it understands and groups them into slides; what it does not
 * claim goes on to the next collector. This is the seam for multi-file formats: a DICOM
 * collector groups the .dcm files of a directory into one slide per series.
 */
export interface SlideCollector {
  readonly name: string;
  collect(files: string[]): Promise<{ slides: SlideInput[]; rest: string[]; rejected?: RejectedFile[] }>;
}

/** One slide per file whose first bytes are a TIFF/BigTIFF header (SVS, TIFF). */
export const tiffCollector: SlideCollector = {
  name: 'tiff',
  async collect(files) {
    const slides: SlideInput[] = [];
    const rest: string[] = [];
    for (const f of files) {
      if (await startsWithTiffMagic(f)) slides.push({ name: basename(f), kind: 'file', files: [f], identity: `tiff\0${resolve(f)}` });
      else rest.push(f);
    }
    return { slides, rest };
  },
};

/** Tried in order. Other formats register here (before nothing else: order only matters for overlaps). */
export const collectors: SlideCollector[] = [miraxCollector, tiffCollector, dicomCollector];

export interface Collected {
  slides: SlideInput[];
  /** Files named explicitly that no collector claimed (they fail as "not recognised"). */
  unclaimed: string[];
  /** Recognised files that fail: broken ones anywhere, unusable ones named explicitly. */
  failed: RejectedFile[];
  /** Files found inside directories that are not slides (notes, other DICOM objects): reported, not failed. */
  skipped: { file: string; reason: string }[];
  /** Paths that do not exist or cannot be read. */
  missing: string[];
  /** Every file in command-line order (directories expanded), to report results in that order. */
  order: string[];
}

/**
 * Expand the command line's files and directories (recursively, sorted) and group them into
 * slides. A file named explicitly always produces a result (a slide or an error); stray files
 * inside a directory (notes, thumbnails) are skipped.
 */
export async function collectSlides(paths: string[], using: SlideCollector[] = collectors): Promise<Collected> {
  const explicit: string[] = [];
  const all: string[] = [];
  const missing: string[] = [];
  // Each directory argument is grouped on its own, the files named one by one together: the
  // same series given twice (two copies of a slide) then makes two slides, never one slide with
  // every instance twice, while a slide spread over sub-folders of one argument stays whole.
  const pools: string[][] = [explicit];
  const seen = new Set<string>();
  const fresh = (files: string[]) => files.filter((f) => !seen.has(f) && seen.add(f));
  for (const p of paths) {
    const st = await stat(p).catch(() => undefined);
    if (!st) missing.push(p);
    else if (st.isDirectory()) {
      const files = fresh(await listFiles(p));
      pools.push(files);
      all.push(...files);
    } else if (fresh([p]).length) {
      explicit.push(p);
      all.push(p);
    }
  }
  const order = all;
  const slides: SlideInput[] = [];
  const rejected: RejectedFile[] = [];
  const pending: string[] = [];
  for (const pool of pools) {
    let left = pool;
    for (const c of using) {
      const r = await c.collect(left);
      slides.push(...r.slides);
      rejected.push(...(r.rejected ?? []));
      left = r.rest;
    }
    pending.push(...left);
  }
  const explicitSet = new Set(explicit);
  return {
    slides,
    unclaimed: pending.filter((f) => explicitSet.has(f)),
    failed: rejected.filter((r) => r.broken || explicitSet.has(r.file)),
    skipped: [
      ...pending.filter((f) => !explicitSet.has(f)).map((file) => ({ file, reason: 'not a supported whole-slide image' })),
      ...rejected.filter((r) => !r.broken && !explicitSet.has(r.file)).map((r) => ({ file: r.file, reason: r.message.startsWith(`${r.file}: `) ? r.message.slice(r.file.length + 2) : r.message })),
    ],
    missing,
    order,
  };
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  // Code-point order, not locale order: the same tree gives the same slide numbering anywhere.
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name === KEY_FILE || e.name === MANIFEST_FILE) continue; // our own bookkeeping in an output folder
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

async function startsWithTiffMagic(path: string): Promise<boolean> {
  const fh = await open(path, 'r').catch(() => undefined);
  if (!fh) return false;
  try {
    const b = Buffer.alloc(4);
    const { bytesRead } = await fh.read(b, 0, 4, 0);
    if (bytesRead < 4) return false;
    const le = b[0] === 0x49 && b[1] === 0x49 && (b[2] === 42 || b[2] === 43) && b[3] === 0;
    const be = b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && (b[3] === 42 || b[3] === 43);
    return le || be;
  } finally {
    await fh.close();
  }
}
