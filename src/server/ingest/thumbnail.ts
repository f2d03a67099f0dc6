import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import jpeg from 'jpeg-js';
import { decodeTile } from '../../engine/codecs/decode-tile.ts';
import type { EncodedTile, Slide, SlideImage } from '../../engine/formats/slide-format.ts';
import { tilesOf } from '../../engine/formats/image-tiles.ts';
import { toSlideError } from '../../shared/errors.ts';
import type { Storage } from '../storage.ts';

/** Longest side of a worklist thumbnail, in pixels. */
export const THUMBNAIL_SIZE = 256;

/**
 * Pixels decoded for one thumbnail at most. jpeg-js decodes about 2 MP/s here (measured: a 6.6 MP
 * level in 3.5 s), and ingest runs one scan at a time on a 2-core server that must keep answering
 * uploads: 8 MP is a few seconds at worst. A slide whose thumbnail image and smallest level are
 * both bigger (a single-level slide of 100k x 100k pixels) gets no thumbnail.
 */
export const MAX_THUMBNAIL_PIXELS = 8 * 1024 * 1024;

/** Pixels decoded to draw a whole image tile by tile (edge tiles are decoded whole). */
function decodedPixels(img: SlideImage): number {
  const tw = img.tileWidth ?? img.width;
  const th = img.tileHeight ?? img.height;
  return Math.ceil(img.width / tw) * tw * Math.ceil(img.height / th) * th;
}

/**
 * The image a thumbnail is drawn from: the slide's own thumbnail, else its smallest level — never
 * a label or overview (they show the slide's label, which may carry a name or accession number).
 */
export function thumbnailSource(images: SlideImage[], budget = MAX_THUMBNAIL_PIXELS): SlideImage | undefined {
  const thumbs = images.filter((i) => i.role === 'thumbnail');
  const levels = images.filter((i) => i.role === 'level').sort((a, b) => decodedPixels(a) - decodedPixels(b));
  return [...thumbs, ...levels].find((i) => decodedPixels(i) <= budget && i.width > 0 && i.height > 0);
}

/**
 * Whether a JPEG carries an Adobe APP14 marker saying "transform 0": RGB data, no colour conversion
 * (the engine marks Aperio's RGB tiles so). jpeg-js converts three components from YCbCr unless
 * told not to, whatever the marker says: without this, CMU-1's thumbnail came out magenta.
 */
export function isAdobeRgb(b: Uint8Array): boolean {
  let p = 2;
  while (p + 4 <= b.length && b[p] === 0xff) {
    const marker = b[p + 1]!;
    if (marker === 0xda) return false; // start of scan: no more header segments
    const len = (b[p + 2]! << 8) | b[p + 3]!;
    // Segment data: "Adobe" (5), version (2), flags0 (2), flags1 (2), transform (1).
    if (marker === 0xee && len >= 14 && b[p + 4] === 0x41 && b[p + 5] === 0x64) return b[p + 15] === 0;
    p += 2 + len;
  }
  return false;
}

/** RGBA pixels of one tile, whatever its codec: JPEG here (jpeg-js), everything else the engine's way. */
async function tileRgba(t: EncodedTile): Promise<Uint8Array | Uint8ClampedArray> {
  if (t.codec !== 'image/jpeg') return (await decodeTile(t)).rgba;
  // Bounded like the whole thumbnail: a tile claiming more pixels is not decoded.
  const d = jpeg.decode(t.bytes, {
    useTArray: true,
    formatAsRGBA: true,
    maxResolutionInMP: MAX_THUMBNAIL_PIXELS / 1e6 + 1,
    maxMemoryUsageInMB: 512,
    ...(isAdobeRgb(t.bytes) ? { colorTransform: false } : {}),
  });
  if (d.width !== t.width || d.height !== t.height) {
    // Edge tiles may be stored whole (padded): take what the tile says it holds, in the decoded grid.
    const out = new Uint8Array(t.width * t.height * 4);
    for (let y = 0; y < Math.min(t.height, d.height); y++) out.set(d.data.subarray(y * d.width * 4, y * d.width * 4 + Math.min(t.width, d.width) * 4), y * t.width * 4);
    return out;
  }
  return d.data;
}

/**
 * A JPEG of at most THUMBNAIL_SIZE px on its longer side, box-filtered from `img` tile by tile
 * (one tile's pixels in memory at a time). Stripped images: readTile's grid is one strip per row.
 */
export async function renderThumbnail(slide: Slide, img: SlideImage, signal?: AbortSignal): Promise<{ jpeg: Uint8Array; width: number; height: number }> {
  const scale = Math.min(1, THUMBNAIL_SIZE / Math.max(img.width, img.height));
  const width = Math.max(1, Math.round(img.width * scale));
  const height = Math.max(1, Math.round(img.height * scale));
  const sum = new Float64Array(width * height * 3);
  const count = new Uint32Array(width * height);
  for await (const { tile: t, x, y } of tilesOf(slide, img, signal)) {
    const px = await tileRgba(t);
    const w = Math.min(t.width, img.width - x);
    const h = Math.min(t.height, img.height - y);
    for (let ty = 0; ty < h; ty++) {
      const oy = Math.min(height - 1, Math.floor((y + ty) * scale));
      for (let tx = 0; tx < w; tx++) {
        const o = oy * width + Math.min(width - 1, Math.floor((x + tx) * scale));
        const p = (ty * t.width + tx) * 4;
        sum[o * 3] += px[p]!;
        sum[o * 3 + 1] += px[p + 1]!;
        sum[o * 3 + 2] += px[p + 2]!;
        count[o]!++;
      }
    }
  }
  const rgba = new Uint8Array(width * height * 4);
  for (let o = 0; o < width * height; o++) {
    const n = count[o] || 1;
    rgba[o * 4] = sum[o * 3]! / n;
    rgba[o * 4 + 1] = sum[o * 3 + 1]! / n;
    rgba[o * 4 + 2] = sum[o * 3 + 2]! / n;
    rgba[o * 4 + 3] = 255;
  }
  return { jpeg: new Uint8Array(jpeg.encode({ data: rgba, width, height }, 85).data), width, height };
}

/** What became of a scan's thumbnail; `code` is an error code only (never a message: it may quote the file). */
export type ThumbnailOutcome = { made: true; path: string } | { made: false; reason: 'no-image' | 'failed'; code?: string };

/**
 * Make and store the thumbnail of a scan that the engine just opened from its stored (for a
 * de-identified upload: verified) files. Never throws: a slide whose pixels cannot be decoded
 * here is still ingested, it just has no thumbnail.
 */
export async function storeThumbnail(storage: Storage, labId: number, scanId: number, slide: Slide, signal?: AbortSignal): Promise<ThumbnailOutcome> {
  const img = thumbnailSource(slide.images);
  if (!img) return { made: false, reason: 'no-image' };
  const rel = join(storage.scanDir(labId, scanId), 'thumbnail.jpg');
  if (!storage.localDisk) {
    try {
      // One PUT: a reader sees the old object or the new one, never half of it.
      await storage.put(rel, (await renderThumbnail(slide, img, signal)).jpeg);
      return { made: true, path: rel };
    } catch (e) {
      return { made: false, reason: 'failed', code: toSlideError(e).code };
    }
  }
  const abs = storage.abs(rel);
  const tmp = `${abs}.tmp-${process.pid}`;
  try {
    const { jpeg: bytes } = await renderThumbnail(slide, img, signal);
    await mkdir(dirname(abs), { recursive: true });
    await writeFile(tmp, bytes);
    await rename(tmp, abs);
    return { made: true, path: rel };
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    return { made: false, reason: 'failed', code: toSlideError(e).code };
  }
}
