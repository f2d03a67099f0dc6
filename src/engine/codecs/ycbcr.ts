/**
 * YCbCr → RGB exactly as OpenSlide converts Aperio 33003 JPEG 2000 tiles (its make-tables.c
 * and openslide-decode-jp2k.c): full-range JFIF coefficients in lookup tables, red and blue
 * rounded, green in 16.16 fixed point with the rounding folded into one table, then clamped.
 */

/** C's round(): halves away from zero (Math.round sends -0.5 up, to 0). */
function cRound(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x));
}

const R_CR = new Int16Array(256);
const G_CB = new Int32Array(256);
const G_CR = new Int32Array(256);
const B_CB = new Int16Array(256);
for (let i = 0; i < 256; i++) {
  R_CR[i] = cRound(1.402 * (i - 128));
  G_CB[i] = cRound(65536 * (0.5 - 0.34414 * (i - 128)));
  G_CR[i] = cRound(65536 * -0.71414 * (i - 128));
  B_CB[i] = cRound(1.772 * (i - 128));
}

const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);

/** Write one RGBA pixel at `q` from Y, Cb, Cr (0–255 each). */
export function ycbcrToRgba(out: Uint8ClampedArray, q: number, y: number, cb: number, cr: number): void {
  out[q] = clamp(y + R_CR[cr]!);
  // Arithmetic shift floors, as OpenSlide's `>> 16` on int32 does.
  out[q + 1] = clamp(y + ((G_CB[cb]! + G_CR[cr]!) >> 16));
  out[q + 2] = clamp(y + B_CB[cb]!);
  out[q + 3] = 255;
}
