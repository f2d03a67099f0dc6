import { SlideError } from '../../shared/errors.ts';
import type { EncodedTile } from '../formats/slide-format.ts';
import { componentsToRgba } from './to-rgba.ts';
import type { CharlsModule } from './codec-types.ts';
import { lazyCodec } from './wasm-loader.ts';

/**
 * JPEG-LS frames (DICOM .80/.81) through CharLS compiled to WebAssembly
 * (@cornerstonejs/codec-charls, decode-only build), loaded on the first frame.
 */

const charls = lazyCodec<CharlsModule>('codec-charls');

const INTERLEAVE_NONE = 0;

export async function decodeJpegLs(tile: EncodedTile): Promise<Uint8ClampedArray> {
  if (tile.bytes.length < 16) throw new SlideError('CORRUPT', 'a JPEG-LS tile is too short to decode');
  const { module } = await charls.get();
  let decoder;
  try {
    decoder = new module.JpegLSDecoder();
  } catch (e) {
    charls.reset();
    throw new SlideError('INTERNAL', 'the JPEG-LS decoder could not start', { cause: e });
  }
  try {
    decoder.getEncodedBuffer(tile.bytes.length).set(tile.bytes);
    try {
      decoder.decode();
    } catch (e) {
      // CharLS reports bad streams with C++ exceptions; the runtime may not survive them.
      charls.reset();
      throw new SlideError('CORRUPT', 'a JPEG-LS tile could not be decoded', { cause: e });
    }
    const info = decoder.getFrameInfo();
    if (info.width !== tile.width || info.height !== tile.height) {
      throw new SlideError('CORRUPT', 'a JPEG-LS tile does not have the size its image declares');
    }
    if (info.bitsPerSample !== 8) throw new SlideError('UNSUPPORTED', 'JPEG-LS tiles with other than 8 bits per sample cannot be shown');
    if (info.componentCount !== 1 && info.componentCount !== 3) {
      throw new SlideError('UNSUPPORTED', 'JPEG-LS tiles with other than 1 or 3 colour components cannot be shown');
    }
    const pixels = decoder.getDecodedBuffer();
    if (pixels.length !== info.width * info.height * info.componentCount) throw new SlideError('CORRUPT', 'a JPEG-LS tile could not be decoded');
    const planar = info.componentCount === 3 && decoder.getInterleaveMode() === INTERLEAVE_NONE;
    const photometric = tile.layout?.photometric ?? (info.componentCount === 1 ? 1 : 2);
    return componentsToRgba({ pixels, width: info.width, height: info.height, components: info.componentCount, planar, photometric });
  } finally {
    try {
      decoder.delete();
    } catch {
      // An aborted runtime cannot free; it is dropped by reset() above.
    }
  }
}
