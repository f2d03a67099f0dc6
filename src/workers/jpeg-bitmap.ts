import type { RgbaImage } from '../engine/barcode/types.ts';

/**
 * The browser's JPEG decoder for the engine's barcode search (a JpegDecoder): much faster than a
 * JavaScript decoder, and the same one the thumbnails use. Pixels are read back through an
 * OffscreenCanvas at the size the tile says it holds.
 */
export async function decodeJpegBitmap(jpeg: Uint8Array, width: number, height: number): Promise<RgbaImage> {
  const bmp = await createImageBitmap(new Blob([jpeg as Uint8Array<ArrayBuffer>], { type: 'image/jpeg' }));
  try {
    const w = Math.max(1, Math.min(width, bmp.width));
    const h = Math.max(1, Math.min(height, bmp.height));
    const ctx = new OffscreenCanvas(w, h).getContext('2d', { willReadFrequently: true })!;
    ctx.drawImage(bmp, 0, 0);
    return { data: ctx.getImageData(0, 0, w, h).data, width: w, height: h };
  } finally {
    bmp.close();
  }
}
