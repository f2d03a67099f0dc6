import { open, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { dicomCollector } from './dicom-collector.ts';

/** One slide to process: a display name and the files that make it up (one for TIFF/SVS). */
export interface SlideInput {
  name: string;
  files: string[];
}

/**
 * A collector claims the files it understands and groups them into slides; what it does not
 * claim goes on to the next collector. This is the seam for multi-file formats: a DICOM
 * collector groups the .dcm files of a directory into one slide per series.
 */
export interface SlideCollector {
  readonly name: string;
  collect(files: string[]): Promise<{ slides: SlideInput[]; rest: string[] }>;
}

/** One slide per file whose first bytes are a TIFF/BigTIFF header (SVS, TIFF). */
export const tiffCollector: SlideCollector = {
  name: 'tiff',
  async collect(files) {
    const slides: SlideInput[] = [];
    const rest: string[] = [];
    for (const f of files) {
      if (await startsWithTiffMagic(f)) slides.push({ name: basename(f), files: [f] });
      else rest.push(f);
    }
    return { slides, rest };
  },
};

/** Tried in order. Other formats register here (before nothing else: order only matters for overlaps). */
export const collectors: SlideCollector[] = [tiffCollector, dicomCollector];

export interface Collected {
  slides: SlideInput[];
  /** Files named explicitly that no collector claimed (they fail as "not recognised"). */
  unclaimed: string[];
  /** Files found inside directories that no collector claimed (ignored). */
  skipped: string[];
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
  for (const p of paths) {
    const st = await stat(p).catch(() => undefined);
    if (!st) missing.push(p);
    else if (st.isDirectory()) all.push(...(await listFiles(p)));
    else {
      explicit.push(p);
      all.push(p);
    }
  }
  const order = [...new Set(all)];
  let pending = [...order];
  const slides: SlideInput[] = [];
  for (const c of using) {
    const r = await c.collect(pending);
    slides.push(...r.slides);
    pending = r.rest;
  }
  const explicitSet = new Set(explicit);
  return {
    slides,
    unclaimed: pending.filter((f) => explicitSet.has(f)),
    skipped: pending.filter((f) => !explicitSet.has(f)),
    missing,
    order,
  };
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
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
