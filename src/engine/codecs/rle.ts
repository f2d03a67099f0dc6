import { plural } from '../../shared/plural.ts';
import { SlideError } from '../../shared/errors.ts';

/**
 * DICOM RLE Lossless (PS3.5 Annex G): a frame is a 64-byte header (segment count, then up to 15
 * segment offsets, little-endian) followed by PackBits-coded segments, one per byte plane. For
 * 8-bit samples there is one segment per sample; the result is interleaved (chunky), as the
 * raster code expects.
 */
export function decodeDicomRle(frame: Uint8Array, width: number, height: number, samplesPerPixel: number): Uint8Array {
  if (frame.length < 64) throw corrupt('the RLE header is cut short');
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const count = dv.getUint32(0, true);
  if (count !== samplesPerPixel) throw new SlideError('UNSUPPORTED', `RLE frames with ${plural(count, 'segment')} for ${plural(samplesPerPixel, 'sample')} cannot be shown`);
  const pixels = width * height;
  const out = new Uint8Array(pixels * samplesPerPixel);
  for (let s = 0; s < count; s++) {
    const start = dv.getUint32(4 + s * 4, true);
    const end = s + 1 < count ? dv.getUint32(8 + s * 4, true) : frame.length;
    if (start < 64 || end > frame.length || end < start) throw corrupt('an RLE segment offset points outside the frame');
    unpackBits(frame, start, end, out, s, samplesPerPixel, pixels);
  }
  return out;
}

/** PackBits into every `stride`-th byte of `out` from `first`; a short segment is an error. */
function unpackBits(src: Uint8Array, start: number, end: number, out: Uint8Array, first: number, stride: number, count: number): void {
  let p = start;
  let n = 0;
  while (n < count && p < end) {
    const h = src[p++]!;
    if (h < 128) {
      // h + 1 literal bytes.
      const len = Math.min(h + 1, count - n, end - p);
      for (let i = 0; i < len; i++) out[first + (n + i) * stride] = src[p + i]!;
      p += h + 1;
      n += len;
    } else if (h > 128) {
      // The next byte, 257 - h times.
      if (p >= end) break;
      const v = src[p++]!;
      const len = Math.min(257 - h, count - n);
      for (let i = 0; i < len; i++) out[first + (n + i) * stride] = v;
      n += len;
    }
    // h === 128 (-128): no operation.
  }
  if (n < count) throw corrupt(`an RLE segment holds ${n} of ${count} bytes`);
}

function corrupt(what: string): SlideError {
  return new SlideError('CORRUPT', what);
}
