import { SlideError } from '../../shared/errors.ts';
import type { EncodedTile } from '../formats/slide-format.ts';
import { decodeToRgba } from './raster.ts';

export interface DecodedTile {
  rgba: Uint8ClampedArray;
  width: number;
  height: number;
}

/**
 * RGBA pixels of any tile the engine decodes itself: JPEG 2000 and JPEG-LS through WebAssembly
 * (their modules and .wasm load on the first such tile, so slides without them never fetch
 * them), LZW/Deflate/raw/RLE in TypeScript. JPEG is left to the browser's decoder.
 */
export async function decodeTile(tile: EncodedTile): Promise<DecodedTile> {
  const { width, height } = tile;
  switch (tile.codec) {
    case 'image/jp2': {
      const { decodeJpeg2000 } = await import('./jpeg2000.ts');
      return { rgba: await decodeJpeg2000(tile), width, height };
    }
    case 'image/jls': {
      const { decodeJpegLs } = await import('./jpeg-ls.ts');
      return { rgba: await decodeJpegLs(tile), width, height };
    }
    case 'image/jpeg':
      throw new SlideError('UNSUPPORTED', 'JPEG tiles are decoded by the browser');
    default:
      return { rgba: decodeToRgba(tile), width, height };
  }
}
