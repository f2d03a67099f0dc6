import { ycbcrToRgba } from './ycbcr.ts';

/** How a decoder's 8-bit output is arranged and what its components mean. */
export interface DecodedComponents {
  pixels: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  /** 1 (grey) or 3 (colour). */
  components: number;
  /** Colour planes one after the other instead of interleaved per pixel. */
  planar: boolean;
  /** TIFF photometric: 0 = grey, white is zero; 6 = YCbCr; anything else RGB or grey as is. */
  photometric: number;
}

/** Opaque RGBA of 8-bit grey or colour components, converting YCbCr the way OpenSlide does. */
export function componentsToRgba(d: DecodedComponents): Uint8ClampedArray {
  const n = d.width * d.height;
  const out = new Uint8ClampedArray(n * 4);
  const px = d.pixels;
  if (d.components === 1) {
    const invert = d.photometric === 0;
    for (let p = 0, q = 0; p < n; p++, q += 4) {
      const v = invert ? 255 - px[p]! : px[p]!;
      out[q] = v;
      out[q + 1] = v;
      out[q + 2] = v;
      out[q + 3] = 255;
    }
    return out;
  }
  // Offsets of the second and third component from the first, and the step between pixels.
  const [c1, c2, step] = d.planar ? [n, 2 * n, 1] : [1, 2, 3];
  const ycc = d.photometric === 6;
  for (let p = 0, i = 0, q = 0; p < n; p++, i += step, q += 4) {
    if (ycc) {
      ycbcrToRgba(out, q, px[i]!, px[i + c1]!, px[i + c2]!);
    } else {
      out[q] = px[i]!;
      out[q + 1] = px[i + c1]!;
      out[q + 2] = px[i + c2]!;
      out[q + 3] = 255;
    }
  }
  return out;
}
