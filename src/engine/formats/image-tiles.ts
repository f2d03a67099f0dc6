import { throwIfAborted } from '../../shared/errors.ts';
import type { EncodedTile, Slide, SlideImage } from './slide-format.ts';

/** One tile (or strip) of an image and where its top-left pixel lies in the image. */
export interface PlacedTile {
  tile: EncodedTile;
  x: number;
  y: number;
}

/**
 * Every tile of `img` in grid order, with its position: for whole-image work one tile at a time
 * (thumbnails, barcode search), never the image in memory. Stripped images: readTile's grid is one
 * strip per row, and a row's height is its tiles' (so the last, shorter strip places right).
 */
export async function* tilesOf(slide: Slide, img: SlideImage, signal?: AbortSignal): AsyncGenerator<PlacedTile> {
  let y = 0;
  for (let row = 0; y < img.height; row++) {
    let rowHeight = 0;
    for (let col = 0, x = 0; x < img.width; col++) {
      throwIfAborted(signal);
      const tile = await slide.readTile(img.id, col, row, signal);
      if (tile.width <= 0 || tile.height <= 0) throw new Error('empty tile');
      yield { tile, x, y };
      x += tile.width;
      rowHeight = tile.height;
    }
    if (rowHeight <= 0) throw new Error('empty tile row');
    y += rowHeight;
  }
}
