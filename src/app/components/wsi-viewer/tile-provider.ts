/**
 * What the deep-zoom viewer needs from a slide, wherever it lives (a local File before upload, or
 * the stored file on the server read through HTTP Range): the pyramid levels and decoded tiles.
 */
export interface ViewerLevel {
  width: number;
  height: number;
  tileWidth: number;
  tileHeight: number;
}

export interface TileProvider {
  /** Level 0 is full resolution; each next level is smaller. */
  levels: ViewerLevel[];
  /** A decoded tile of one level; rejects when the tile cannot be decoded (e.g. JPEG 2000). */
  tile(level: number, col: number, row: number, signal?: AbortSignal): Promise<ImageBitmap>;
  /**
   * A small picture of the whole slide that is cheap to get (a stored thumbnail, the slide's own
   * thumbnail image), drawn first while the real tiles load; null when there is none. Optional.
   */
  placeholder?(): Promise<ImageBitmap | null>;
}
