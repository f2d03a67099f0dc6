import { SlideError } from '../../shared/errors.ts';
import type { EncodedTile } from '../formats/slide-format.ts';
import { componentsToRgba } from './to-rgba.ts';
import type { OpenJpegModule } from './codec-types.ts';
import { lazyCodec } from './wasm-loader.ts';

/**
 * JPEG 2000 tiles (Aperio 33003/33005, DICOM .90/.91) through OpenJPEG compiled to WebAssembly
 * (@cornerstonejs/codec-openjpeg, decode-only build), loaded on the first tile.
 *
 * Colour follows OpenSlide: Aperio 33005 and DICOM codestreams are RGB once OpenJPEG has undone
 * the multi-component transform; Aperio 33003 codestreams hold Y, Cb, Cr (the tile's
 * layout.photometric is 6) and are converted with OpenSlide's tables. When the chroma planes are
 * subsampled, this OpenJPEG build converts them to RGB itself (its own sYCC matrix, which
 * truncates where OpenSlide rounds: up to 1 level apart per channel) and says so with an sRGB
 * colour space; its API hands out no subsampled planes, so that result is used as it is.
 */

const openjpeg = lazyCodec<OpenJpegModule>('codec-openjpeg');

const OPJ_CLRSPC_SRGB = 1;

export async function decodeJpeg2000(tile: EncodedTile): Promise<Uint8ClampedArray> {
  // The decoder reads a 4-byte signature before it checks anything; no real tile is this small.
  if (tile.bytes.length < 16) throw new SlideError('CORRUPT', 'a JPEG 2000 tile is too short to decode');
  const { module, console } = await openjpeg.get();
  let decoder;
  try {
    decoder = new module.J2KDecoder();
  } catch (e) {
    openjpeg.reset();
    throw new SlideError('INTERNAL', 'the JPEG 2000 decoder could not start', { cause: e });
  }
  try {
    decoder.getEncodedBuffer(tile.bytes.length).set(tile.bytes);
    console.errors.length = 0;
    try {
      decoder.decode();
    } catch (e) {
      openjpeg.reset();
      throw new SlideError('CORRUPT', 'a JPEG 2000 tile could not be decoded', { cause: e });
    }
    if (console.errors.length > 0) throw new SlideError('CORRUPT', 'a JPEG 2000 tile could not be decoded');
    const info = decoder.getFrameInfo();
    if (info.width !== tile.width || info.height !== tile.height) {
      throw new SlideError('CORRUPT', 'a JPEG 2000 tile does not have the size its image declares');
    }
    if (info.bitsPerSample !== 8 || info.isSigned) {
      throw new SlideError('UNSUPPORTED', 'JPEG 2000 tiles with other than 8 bits per sample cannot be shown');
    }
    if (info.componentCount !== 1 && info.componentCount !== 3) {
      throw new SlideError('UNSUPPORTED', 'JPEG 2000 tiles with other than 1 or 3 colour components cannot be shown');
    }
    const pixels = decoder.getDecodedBuffer();
    if (pixels.length !== info.width * info.height * info.componentCount) {
      throw new SlideError('CORRUPT', 'a JPEG 2000 tile could not be decoded');
    }
    const ycc = tile.layout?.photometric === 6 && decoder.getColorSpace() !== OPJ_CLRSPC_SRGB;
    const photometric = info.componentCount === 1 ? (tile.layout?.photometric === 0 ? 0 : 1) : ycc ? 6 : 2;
    return componentsToRgba({ pixels, width: info.width, height: info.height, components: info.componentCount, planar: false, photometric });
  } finally {
    try {
      decoder.delete();
    } catch {
      // An aborted runtime cannot free; it is dropped by reset() above.
    }
  }
}
