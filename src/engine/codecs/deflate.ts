import { unzlibSync, inflateSync } from 'fflate';
import { SlideError } from '../../shared/errors.ts';

/** TIFF Deflate (compression 8 / 32946): zlib-wrapped; tolerate raw deflate from odd writers. */
export function decodeDeflate(input: Uint8Array, expected: number): Uint8Array {
  try {
    return unzlibSync(input, { out: new Uint8Array(expected) });
  } catch {
    try {
      return inflateSync(input, { out: new Uint8Array(expected) });
    } catch (e) {
      throw new SlideError('CORRUPT', 'Deflate data cannot be decompressed', { cause: e });
    }
  }
}
