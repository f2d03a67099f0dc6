import { Zip, ZipPassThrough } from 'fflate';
import { BlobSource } from '../engine/io/web/blob-source.ts';
import type { SyncAccessHandle } from '../engine/io/web/opfs.ts';
import { groupDicomInstances } from '../engine/dicom/group.ts';
import { SlideError } from '../shared/errors.ts';
import type { SlideImage } from '../engine/formats/slide-format.ts';

/**
 * Worker-side operations the import wizard needs besides inspection and redaction: grouping DICOM
 * instances into slides and zipping a multi-file DICOM slide's staged outputs. They run in the
 * engine worker (added to engineApi) so the page never reads a slide into its own memory.
 */

const CHUNK = 8 * 1024 * 1024;

async function opfsFile(path: string, create: boolean): Promise<FileSystemFileHandle> {
  const parts = path.split('/');
  const name = parts.pop()!;
  let dir = await navigator.storage.getDirectory();
  for (const p of parts) dir = await dir.getDirectoryHandle(p, { create });
  return dir.getFileHandle(name, { create });
}

/**
 * Zip staged OPFS files into `zipPath` (stored, not deflated: slide tiles are already compressed).
 * fflate writes no Zip64, so the caller keeps the total under 4 GiB. Returns the zip's size.
 */
export async function zipOpfsFiles(paths: string[], names: string[], zipPath: string): Promise<{ size: number }> {
  // Typed through opfs.ts: the DOM lib (the page type-checks this file via EngineApi) lacks it.
  const fh = await opfsFile(zipPath, true);
  const out = await (fh as unknown as { createSyncAccessHandle(): Promise<SyncAccessHandle> }).createSyncAccessHandle();
  let at = 0;
  let failure: unknown;
  try {
    out.truncate(0);
    const zip = new Zip((err, chunk) => {
      if (err) failure ??= err;
      if (failure || !chunk) return;
      const n = out.write(chunk, { at });
      // A short write means the disk is full: the sync API reports it only in the return value.
      if (n !== chunk.length) failure = new SlideError('QUOTA', 'not enough disk space for the zip file');
      at += n;
    });
    for (let i = 0; i < paths.length; i++) {
      const entry = new ZipPassThrough(names[i]);
      zip.add(entry);
      const file = await (await opfsFile(paths[i], false)).getFile();
      if (file.size === 0) entry.push(new Uint8Array(0), true);
      for (let off = 0; off < file.size; off += CHUNK) {
        const end = Math.min(file.size, off + CHUNK);
        entry.push(new Uint8Array(await file.slice(off, end).arrayBuffer()), end === file.size);
        if (failure) throw failure;
      }
    }
    zip.end();
    if (failure) throw failure;
    out.flush();
    return { size: at };
  } finally {
    out.close();
  }
}

/**
 * The engine's FileGrouper for DICOM: the instances of one slide (same study, series, container,
 * pyramid) become one group; files that are not DICOM WSI stay for the one-file drivers, which
 * then report them per file. Headers only — pixel data is never read here.
 */
export async function groupDicomFiles(files: File[]): Promise<{ groups: File[][]; rest: File[] }> {
  const sources = files.map((f) => new BlobSource(f, f.name));
  const fileOf = new Map(sources.map((s, i) => [s, files[i]]));
  const { slides } = await groupDicomInstances(sources);
  const grouped = new Set<File>();
  const groups = slides.map((g) => g.parts.map((p) => {
    const f = fileOf.get(p as BlobSource)!;
    grouped.add(f);
    return f;
  }));
  return { groups, rest: files.filter((f) => !grouped.has(f)) };
}

/**
 * Decoding more pixels than this for one preview takes too long for a list of slides (and holds a
 * tile's worth of RGBA at a time, so memory is not the limit — time is): no preview instead.
 * 24 MP is about 0.3 s of JPEG decoding here; a typical label or SVS thumbnail is under 1 MP.
 */
export const MAX_PREVIEW_PIXELS = 24 * 1024 * 1024;

/**
 * Pixels decoded to draw a whole image tile by tile: edge tiles are decoded whole. Strips count by
 * their pixels, not their number — a label of 463 one-row strips is as cheap as one of 1 strip.
 */
export function decodedPixels(img: SlideImage): number {
  const tw = img.tileWidth ?? img.width;
  const th = img.tileHeight ?? img.height;
  return Math.ceil(img.width / tw) * tw * Math.ceil(img.height / th) * th;
}

/**
 * The image a preview is drawn from: the one asked for (a label or overview), else the slide's
 * thumbnail, else the smallest level — whichever of these fits the decode budget. undefined: none
 * does (e.g. a single-level slide of 100k × 100k pixels).
 */
export function previewImage(images: SlideImage[], imageId?: string): SlideImage | undefined {
  const fits = (i: SlideImage) => decodedPixels(i) <= MAX_PREVIEW_PIXELS;
  if (imageId) return images.filter((i) => i.id === imageId).find(fits);
  const thumbs = images.filter((i) => i.role === 'thumbnail');
  const levels = images.filter((i) => i.role === 'level').sort((a, b) => decodedPixels(a) - decodedPixels(b));
  return [...thumbs, ...levels].find(fits);
}
