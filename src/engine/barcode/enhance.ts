import type { RgbaImage } from './types.ts';

/**
 * Local contrast stretching for photographed labels. A scanner's label camera gives a dim,
 * unevenly lit, slightly blurred picture: on the real MIRAX sample the gaps between thin bars
 * stay darker than the paper elsewhere, so a global or zxing's block-wise threshold merges them.
 * Stretching each pixel between the darkest and brightest value ACROSS the bars (a window of
 * ±radius pixels), after smoothing ALONG the bars (±2 rows, against JPEG noise), separates them
 * again. `across`: 'x' for upright bars, 'y' for a code lying sideways. Flat areas become white.
 */
export function stretchAcrossBars(img: RgbaImage, across: 'x' | 'y', radius = 10, minRange = 12): RgbaImage {
  const { width: w, height: h } = img;
  // Work in "lines across the bars": for 'y' the image is read transposed.
  const lines = across === 'x' ? h : w;
  const len = across === 'x' ? w : h;
  const at = (line: number, i: number) => (across === 'x' ? line * w + i : i * w + line);
  const gray = new Float32Array(w * h);
  for (let p = 0, q = 0; p < gray.length; p++, q += 4) gray[p] = (img.data[q]! * 77 + img.data[q + 1]! * 151 + img.data[q + 2]! * 28) / 256;
  const out = new Uint8ClampedArray(w * h * 4).fill(255);
  const smooth = new Float32Array(len);
  const lo = new Float32Array(len);
  const hi = new Float32Array(len);
  for (let line = 0; line < lines; line++) {
    const a = Math.max(0, line - 2), b = Math.min(lines - 1, line + 2);
    for (let i = 0; i < len; i++) {
      let s = 0;
      for (let l = a; l <= b; l++) s += gray[at(l, i)]!;
      smooth[i] = s / (b - a + 1);
    }
    slidingExtremes(smooth, radius, lo, hi);
    for (let i = 0; i < len; i++) {
      const range = hi[i]! - lo[i]!;
      const v = range > minRange ? ((smooth[i]! - lo[i]!) / range) * 255 : 255;
      const o = at(line, i) * 4;
      out[o] = out[o + 1] = out[o + 2] = v;
    }
  }
  return { data: out, width: w, height: h };
}

/** Min and max of v over [i - r, i + r] for every i, in O(n) (monotonic deques). */
function slidingExtremes(v: Float32Array, r: number, lo: Float32Array, hi: Float32Array): void {
  const n = v.length;
  const qMin = new Int32Array(n), qMax = new Int32Array(n);
  let h1 = 0, t1 = 0, h2 = 0, t2 = 0;
  for (let j = 0; j < n + r; j++) {
    if (j < n) {
      while (t1 > h1 && v[qMin[t1 - 1]!]! >= v[j]!) t1--;
      qMin[t1++] = j;
      while (t2 > h2 && v[qMax[t2 - 1]!]! <= v[j]!) t2--;
      qMax[t2++] = j;
    }
    const i = j - r;
    if (i < 0) continue;
    while (qMin[h1]! < i - r) h1++;
    while (qMax[h2]! < i - r) h2++;
    lo[i] = v[qMin[h1]!]!;
    hi[i] = v[qMax[h2]!]!;
  }
}
