import { SlideError } from '../../shared/errors.ts';

/**
 * JPEG fix-ups that make a TIFF tile a standalone JPEG a browser can decode:
 * - Aperio (and most tiled TIFF writers) store "abbreviated" tiles whose quantisation and Huffman
 *   tables live once in the JPEGTables tag (347); the tables are spliced in after the tile's SOI.
 * - Aperio writes RGB (not YCbCr) JPEG data with PhotometricInterpretation RGB; without an Adobe
 *   APP14 marker saying "transform 0", decoders assume YCbCr and the colours come out wrong.
 */

const SOI0 = 0xff, SOI1 = 0xd8;

export function isJpeg(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === SOI0 && b[1] === SOI1;
}

/** Tile with the JPEGTables' segments (between their SOI and EOI) inserted after the tile's SOI. */
export function spliceJpegTables(tables: Uint8Array, tile: Uint8Array): Uint8Array {
  if (!isJpeg(tile)) throw new SlideError('CORRUPT', 'a JPEG tile does not start with a JPEG marker');
  if (!isJpeg(tables) || tables.length < 4) return tile;
  // Tables are SOI ... EOI; drop both markers.
  let end = tables.length;
  if (tables[end - 2] === 0xff && tables[end - 1] === 0xd9) end -= 2;
  const body = tables.subarray(2, end);
  const out = new Uint8Array(tile.length + body.length);
  out.set(tile.subarray(0, 2), 0);
  out.set(body, 2);
  out.set(tile.subarray(2), 2 + body.length);
  return out;
}

/** Adobe APP14 segment: version 100, flags 0, 0, transform 0 (= RGB, no colour conversion). */
const ADOBE_APP14_RGB = new Uint8Array([
  0xff, 0xee, 0x00, 0x0e, 0x41, 0x64, 0x6f, 0x62, 0x65, 0x00, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00,
]);

export function hasAdobeMarker(jpeg: Uint8Array): boolean {
  let p = 2;
  while (p + 4 <= jpeg.length && jpeg[p] === 0xff) {
    const marker = jpeg[p + 1]!;
    if (marker === 0xda) return false; // start of scan: no more header segments
    const len = (jpeg[p + 2]! << 8) | jpeg[p + 3]!;
    if (marker === 0xee && len >= 12 && jpeg[p + 4] === 0x41 && jpeg[p + 5] === 0x64) return true;
    p += 2 + len;
  }
  return false;
}

export function insertAdobeRgbMarker(jpeg: Uint8Array): Uint8Array {
  if (!isJpeg(jpeg) || hasAdobeMarker(jpeg)) return jpeg;
  const out = new Uint8Array(jpeg.length + ADOBE_APP14_RGB.length);
  out.set(jpeg.subarray(0, 2), 0);
  out.set(ADOBE_APP14_RGB, 2);
  out.set(jpeg.subarray(2), 2 + ADOBE_APP14_RGB.length);
  return out;
}

/** Both fix-ups as a TIFF reader needs them: tables if given, APP14 when photometric is RGB (2). */
export function standaloneJpeg(tile: Uint8Array, tables: Uint8Array | undefined, photometric: number): Uint8Array {
  let out = tables ? spliceJpegTables(tables, tile) : tile;
  if (photometric === 2) out = insertAdobeRgbMarker(out);
  return out;
}
