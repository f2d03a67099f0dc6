import { decodeTile } from '../codecs/decode-tile.ts';
import type { EncodedTile, Slide, SlideImage } from '../formats/slide-format.ts';
import { tilesOf } from '../formats/image-tiles.ts';
import type { JpegDecoder, RgbaImage } from './types.ts';

/**
 * The pixels of a label or macro for the barcode reader: every tile (or strip) decoded and placed,
 * box-filtered down when the image's long side exceeds `maxSide` — a 1-D code needs resolution,
 * so labels and most macros are searched at full size.
 */

/** Long side, in pixels, above which an image is scaled down before the search. */
export const MAX_SEARCH_SIDE = 4096;

/** Labels and macros are a few megapixels; an "associated image" far bigger is not searched. */
export const MAX_SEARCH_PIXELS = 100e6;

export async function imageRgba(slide: Slide, img: SlideImage, decodeJpeg: JpegDecoder, maxSide = MAX_SEARCH_SIDE, signal?: AbortSignal): Promise<RgbaImage> {
  if (img.width <= 0 || img.height <= 0) throw new Error('empty image');
  if (img.width * img.height > MAX_SEARCH_PIXELS) throw new Error('image too large to search');
  // An integer factor keeps the box filter exact and cheap.
  const f = Math.max(1, Math.ceil(Math.max(img.width, img.height) / maxSide));
  const width = Math.ceil(img.width / f);
  const height = Math.ceil(img.height / f);
  // Scaled down: only luminance is summed (the reader works on grey anyway), to keep memory low.
  const sum = f === 1 ? undefined : new Uint32Array(width * height);
  const out = new Uint8ClampedArray(width * height * 4).fill(255);
  for await (const { tile: t, x, y } of tilesOf(slide, img, signal)) {
    const px = t.codec === 'image/jpeg' ? await decodeJpeg(t.bytes, t.width, t.height) : await engineRgba(t);
    const w = Math.min(t.width, px.width, img.width - x);
    const h = Math.min(t.height, px.height, img.height - y);
    for (let ty = 0; ty < h; ty++) {
      const src = ty * px.width * 4;
      if (!sum) {
        out.set(px.data.subarray(src, src + w * 4), ((y + ty) * width + x) * 4);
        continue;
      }
      const oy = Math.floor((y + ty) / f) * width;
      for (let tx = 0; tx < w; tx++) {
        const p = src + tx * 4;
        sum[oy + Math.floor((x + tx) / f)] += (px.data[p]! * 77 + px.data[p + 1]! * 151 + px.data[p + 2]! * 28) >> 8;
      }
    }
  }
  if (sum) {
    for (let oy = 0; oy < height; oy++) {
      const nh = Math.min(f, img.height - oy * f);
      for (let ox = 0; ox < width; ox++) {
        const v = sum[oy * width + ox]! / (nh * Math.min(f, img.width - ox * f));
        const o = (oy * width + ox) * 4;
        out[o] = out[o + 1] = out[o + 2] = v;
      }
    }
  }
  return { data: out, width, height };
}

/** LZW/Deflate/raw/RLE, JPEG 2000 and JPEG-LS tiles: the engine's own decoders. */
async function engineRgba(t: EncodedTile): Promise<RgbaImage> {
  const d = await decodeTile(t);
  return { data: d.rgba, width: d.width, height: d.height };
}
