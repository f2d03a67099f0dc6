import { SlideError } from '../../shared/errors.ts';
import type { EncodedTile } from '../formats/slide-format.ts';
import { decodeDeflate } from './deflate.ts';
import { decodeLzw } from './lzw.ts';
import { decodeDicomRle } from './rle.ts';

/**
 * RGBA pixels of an LZW/Deflate/uncompressed TIFF tile or a raw or RLE DICOM frame (8-bit,
 * chunky, 1/3/4 samples, with or without horizontal predictor) — what a worker needs for thumbnails when the browser's own
 * image decoder cannot take the bytes.
 */
export function decodeToRgba(tile: EncodedTile): Uint8ClampedArray {
  const l = tile.layout;
  if (!l || l.bitsPerSample !== 8 || l.planar !== 1 || ![1, 3, 4].includes(l.samplesPerPixel)) {
    throw new SlideError('UNSUPPORTED', 'this pixel layout cannot be shown');
  }
  const spp = l.samplesPerPixel;
  const expected = tile.width * tile.height * spp;
  const raw = tile.codec === 'tiff/lzw' ? decodeLzw(tile.bytes, expected)
    : tile.codec === 'tiff/deflate' ? decodeDeflate(tile.bytes, expected)
    : tile.codec === 'raw' ? tile.bytes
    : tile.codec === 'dicom/rle' ? decodeDicomRle(tile.bytes, tile.width, tile.height, spp)
    : undefined;
  if (!raw) throw new SlideError('UNSUPPORTED', `${tile.codec} tiles are decoded by the browser`);
  const px = new Uint8Array(expected);
  px.set(raw.subarray(0, expected));
  if (l.predictor === 2) {
    const row = tile.width * spp;
    for (let y = 0; y < tile.height; y++) {
      for (let i = y * row + spp; i < (y + 1) * row; i++) px[i] = (px[i]! + px[i - spp]!) % 256;
    }
  }
  const out = new Uint8ClampedArray(tile.width * tile.height * 4);
  for (let p = 0, q = 0; q < out.length; p += spp, q += 4) {
    const gray = spp === 1;
    out[q] = px[p]!;
    out[q + 1] = gray ? px[p]! : px[p + 1]!;
    out[q + 2] = gray ? px[p]! : px[p + 2]!;
    out[q + 3] = spp === 4 ? px[p + 3]! : 255;
  }
  return out;
}
