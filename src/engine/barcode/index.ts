import type { Slide, SlideImage } from '../formats/slide-format.ts';
import { SlideError, throwIfAborted } from '../../shared/errors.ts';
import { stretchAcrossBars } from './enhance.ts';
import { imageRgba, MAX_SEARCH_SIDE } from './image-rgba.ts';
import { decodeJpegNode } from './jpeg-rgba.ts';
import { metadataBarcodes } from './metadata.ts';
import type { BarcodeScan, BarcodeSource, FoundBarcode, JpegDecoder } from './types.ts';
import { readSymbols, zxingReader, type DecodedSymbol } from './zxing-reader.ts';

export type { BarcodeScan, BarcodeSource, FoundBarcode, JpegDecoder, RgbaImage } from './types.ts';
export { BARCODE_FIELDS, metadataBarcodes } from './metadata.ts';

export interface FindBarcodesOptions {
  signal?: AbortSignal;
  /** JPEG decoding: the worker passes the browser's; default jpeg-js (Node). */
  decodeJpeg?: JpegDecoder;
  /** Long side above which an image is scaled down before the search (default 4096). */
  maxSide?: number;
}

/**
 * Barcodes of one slide (contract C4): the label first; the macro too when there is no label or
 * nothing was found on it (NDPI and the GT450 have no label image: the label is part of the
 * macro); then the values vendors store in metadata. De-duplicated by value, first kept. An image
 * that cannot be decoded is an image where nothing was found, never an error; a reader that
 * cannot load is (the search did not happen).
 */
export async function findSlideBarcodes(slide: Slide, opts: FindBarcodesOptions = {}): Promise<BarcodeScan> {
  const started = performance.now();
  const decodeJpeg = opts.decodeJpeg ?? decodeJpegNode;
  const found: FoundBarcode[] = [];
  let imagesSearched = 0;

  const search = async (role: SlideImage['role'], source: BarcodeSource): Promise<boolean> => {
    // Largest first (Philips and NDPI keep a second, smaller copy); stop at the first with codes.
    const images = slide.images.filter((i) => i.role === role).sort((a, b) => b.width * b.height - a.width * a.height);
    for (const img of images) {
      throwIfAborted(opts.signal);
      imagesSearched++;
      const symbols = await symbolsIn(slide, img, decodeJpeg, opts);
      for (const s of symbols) found.push({ value: s.text, symbology: s.format, source });
      if (symbols.length > 0) return true;
    }
    return false;
  };

  if (slide.images.some((i) => i.role === 'label' || i.role === 'overview')) {
    await loadReader();
    if (!(await search('label', 'label'))) await search('overview', 'macro');
  }
  found.push(...metadataBarcodes(slide.fields));

  const seen = new Set<string>();
  const barcodes = found.filter((b) => !seen.has(b.value) && !!seen.add(b.value));
  return { barcodes, decodeMs: Math.round((performance.now() - started) * 10) / 10, imagesSearched };
}

async function loadReader(): Promise<void> {
  try {
    await zxingReader();
  } catch (e) {
    throw new SlideError('UNSUPPORTED', 'the barcode reader could not be loaded', { cause: e });
  }
}

async function symbolsIn(slide: Slide, img: SlideImage, decodeJpeg: JpegDecoder, opts: FindBarcodesOptions): Promise<DecodedSymbol[]> {
  try {
    const px = await imageRgba(slide, img, decodeJpeg, opts.maxSide ?? MAX_SEARCH_SIDE, opts.signal);
    const found = await readSymbols(px);
    if (found.length > 0) return found;
    // Dim, blurred label photos (the real MIRAX sample): again with the contrast stretched across
    // upright bars, then across sideways ones. Only images where nothing was found pay for it.
    for (const across of ['x', 'y'] as const) {
      throwIfAborted(opts.signal);
      const again = await readSymbols(stretchAcrossBars(px, across));
      if (again.length > 0) return again;
    }
    return [];
  } catch (e) {
    if (e instanceof SlideError && e.code === 'ABORTED') throw e;
    return []; // corrupt, truncated or undecodable here: nothing found on this image
  }
}
