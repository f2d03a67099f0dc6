/**
 * Barcodes found on a slide (issue 14, contract C4). A value is PHI-ish: it proposes a case on
 * the PC, is never logged, and never sent unless it is itself the case number the user confirmed.
 */

export type BarcodeSource = 'label' | 'macro' | 'metadata';

export interface FoundBarcode {
  /** Decoded text (PHI-ish: never logged, never sent). */
  value: string;
  /** zxing's format name ('Code128', 'Code39', 'DataMatrix', 'QRCode', 'PDF417', …) or 'metadata'. */
  symbology: string;
  source: BarcodeSource;
  /** Source 'metadata': the field id it came from (e.g. 'aperio:Barcode'). */
  fieldId?: string;
}

export interface BarcodeScan {
  barcodes: FoundBarcode[];
  /** Wall time of the whole search (pixels and decoding), in ms. */
  decodeMs: number;
  /** Label and macro images whose pixels were searched. */
  imagesSearched: number;
}

/** RGBA pixels, 4 bytes per pixel, row-major (the shape zxing's ImageData input takes). */
export interface RgbaImage {
  data: Uint8ClampedArray;
  width: number;
  height: number;
}

/**
 * Decodes one standalone JPEG (tables spliced, APP14 added by the driver) to RGBA of at least
 * width x height. The worker passes the browser's decoder; Node uses jpeg-js (jpeg-rgba.ts).
 */
export type JpegDecoder = (jpeg: Uint8Array, width: number, height: number) => Promise<RgbaImage>;
