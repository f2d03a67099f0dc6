import type { JpegDecoder, RgbaImage } from './types.ts';

/**
 * The JPEG decoder for Node (CLI, tests): jpeg-js, loaded by a specifier bundlers do not follow
 * (the worker passes the browser's own decoder instead, see src/workers/jpeg-bitmap.ts).
 */

/** Pixels one label or macro JPEG may claim at most (a bigger one is a broken or hostile file). */
const MAX_MEGAPIXELS = 64;

type JpegJs = { decode: (b: Uint8Array, o: Record<string, unknown>) => { width: number; height: number; data: Uint8Array } };

let jpegJs: Promise<JpegJs> | undefined;

/**
 * Adobe APP14 "transform 0" = RGB data: jpeg-js converts three components from YCbCr unless told
 * not to, whatever the marker says (the driver adds this marker to Aperio's RGB JPEGs).
 */
export function isAdobeRgb(b: Uint8Array): boolean {
  let p = 2;
  while (p + 4 <= b.length && b[p] === 0xff) {
    const marker = b[p + 1]!;
    if (marker === 0xda) return false;
    const len = (b[p + 2]! << 8) | b[p + 3]!;
    if (marker === 0xee && len >= 14 && b[p + 4] === 0x41 && b[p + 5] === 0x64) return b[p + 15] === 0;
    p += 2 + len;
  }
  return false;
}

export const decodeJpegNode: JpegDecoder = async (bytes) => {
  const name = 'jpeg-js';
  jpegJs ??= import(/* Node only, never bundled */ name).then((m: { default?: JpegJs } & JpegJs) => m.default ?? m);
  const d = (await jpegJs).decode(bytes, {
    useTArray: true,
    formatAsRGBA: true,
    maxResolutionInMP: MAX_MEGAPIXELS,
    maxMemoryUsageInMB: 512,
    ...(isAdobeRgb(bytes) ? { colorTransform: false } : {}),
  });
  const img: RgbaImage = { data: new Uint8ClampedArray(d.data.buffer, d.data.byteOffset, d.data.byteLength), width: d.width, height: d.height };
  return img;
};
