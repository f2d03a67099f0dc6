import { SlideError } from '../../../shared/errors.ts';
import type { EncodedTile } from '../../formats/slide-format.ts';
import { parseJpegStripHeader, restartIntervalJpeg, scanRestartIntervals, withFrameSize, type JpegStripHeader } from '../../codecs/jpeg-restart-tiles.ts';
import type { TiffImageInfo } from '../image-info.ts';
import type { TiffEntry, TiffFile } from '../tifflike.ts';
import { NdpiTag } from './ndpi-profile.ts';

/**
 * An NDPI pyramid level: ONE JPEG strip, usually with restart markers, and McuStarts (65426, high
 * halves in 65432) giving each restart interval's offset from the strip's start. As OpenSlide
 * does, the tile grid follows the restart intervals: a tile is one interval wide (restart interval
 * × MCU width) and here several MCU rows high (up to about 512×512 pixels), so the viewer gets
 * tiles of a useful size, each a standalone JPEG cut from the strip (codecs/jpeg-restart-tiles.ts)
 * without decoding it.
 */
export interface NdpiLevel {
  width: number;
  height: number;
  stripOffset: number;
  stripLength: number;
  header: Uint8Array;
  jpeg: JpegStripHeader;
  /** Restart intervals per MCU row and MCU rows; 0 intervals = one JPEG without markers. */
  intervalsPerRow: number;
  mcuRows: number;
  rowsPerTile: number;
  tileWidth: number;
  tileHeight: number;
  across: number;
  down: number;
  starts: IntervalStarts;
}

/** Interval offsets from McuStarts, or found by scanning the strip (once) when it is missing or wrong. */
type IntervalStarts =
  | { kind: 'tag'; low: TiffEntry; high?: TiffEntry }
  | { kind: 'scan'; found?: Promise<number[]> };

/** Tiles of about this many pixels (a tile is always one restart interval wide). */
const TARGET_TILE_PIXELS = 512 * 512;
/** A JPEG header larger than this is not an NDPI header. */
const MAX_HEADER = 1024 * 1024;
/** Scanning a strip for restart markers reads it whole: refused beyond this. */
const MAX_SCAN = 1024 * 1024 * 1024;
/** A tile's bytes beyond this are refused (no real tile comes close). */
const MAX_TILE_BYTES = 64 * 1024 * 1024;

async function readStripHeader(tiff: TiffFile, offset: number, length: number, signal?: AbortSignal): Promise<{ header: Uint8Array; jpeg: JpegStripHeader }> {
  for (let n = Math.min(64 * 1024, length); ; n = Math.min(MAX_HEADER, length)) {
    const header = await tiff.source.read(offset, n, signal);
    const jpeg = parseJpegStripHeader(header);
    if (jpeg) return { header: header.slice(0, jpeg.headerLength), jpeg };
    if (n >= Math.min(MAX_HEADER, length)) throw new SlideError('CORRUPT', 'an NDPI level does not start with a complete JPEG header');
  }
}

/** The level's geometry and interval table, checked (reads the JPEG header and two McuStarts values). */
export async function openNdpiLevel(tiff: TiffFile, info: TiffImageInfo, where: string, signal?: AbortSignal): Promise<NdpiLevel> {
  const [stripOffset] = await tiff.readNumbers(info.offsets, 0, 1, signal);
  const [stripLength] = await tiff.readNumbers(info.byteCounts, 0, 1, signal);
  const { header, jpeg } = await readStripHeader(tiff, stripOffset!, stripLength!, signal);
  const { width, height } = info;
  // NDPI writes 0 (or a clamped size) in SOF for images wider or taller than JPEG allows.
  const sofValid = jpeg.width > 0 && jpeg.height > 0 && jpeg.width <= 65500 && jpeg.height <= 65500;
  if (sofValid && (jpeg.width !== width || jpeg.height !== height) && jpeg.restartInterval > 0) {
    throw new SlideError('CORRUPT', `${where}: the JPEG size does not match the image size`);
  }
  const base = { width, height, stripOffset: stripOffset!, stripLength: stripLength!, header, jpeg };
  if (jpeg.restartInterval === 0) {
    // One JPEG without markers (small levels): one tile, decoded whole.
    const w = sofValid ? jpeg.width : width, h = sofValid ? jpeg.height : height;
    return { ...base, width: w, height: h, intervalsPerRow: 0, mcuRows: 1, rowsPerTile: 1, tileWidth: w, tileHeight: h, across: 1, down: 1, starts: { kind: 'scan' } };
  }
  const mcusPerRow = Math.ceil(width / jpeg.mcuWidth);
  if (jpeg.restartInterval > mcusPerRow || mcusPerRow % jpeg.restartInterval !== 0) {
    throw new SlideError('UNSUPPORTED', `${where}: NDPI level whose restart intervals do not divide its rows is not supported`);
  }
  const intervalsPerRow = mcusPerRow / jpeg.restartInterval;
  const mcuRows = Math.ceil(height / jpeg.mcuHeight);
  const tileWidth = jpeg.restartInterval * jpeg.mcuWidth;
  const byPixels = Math.floor(TARGET_TILE_PIXELS / (tileWidth * jpeg.mcuHeight));
  const square = Math.ceil(Math.max(tileWidth, 256) / jpeg.mcuHeight);
  const rowsPerTile = Math.max(1, Math.min(byPixels, square, mcuRows));
  const count = intervalsPerRow * mcuRows;
  const starts = await intervalTable(tiff, info, count, stripLength!, jpeg.headerLength, where, signal);
  return {
    ...base, intervalsPerRow, mcuRows, rowsPerTile,
    tileWidth, tileHeight: rowsPerTile * jpeg.mcuHeight,
    across: intervalsPerRow, down: Math.ceil(mcuRows / rowsPerTile),
    starts,
  };
}

/**
 * McuStarts when it describes this strip: one value per interval, the first at the end of the
 * JPEG header, the last inside the strip (values in between are checked as tiles are read). A
 * table with another count is ignored as OpenSlide does (intervals are then found by scanning);
 * a table that points outside the strip is damage, refused as CORRUPT.
 */
async function intervalTable(tiff: TiffFile, info: TiffImageInfo, count: number, stripLength: number, headerLength: number, where: string, signal?: AbortSignal): Promise<IntervalStarts> {
  const low = tiff.entry(info.ifd, NdpiTag.McuStarts);
  if (!low || low.count !== count) return { kind: 'scan' };
  const high = tiff.entry(info.ifd, NdpiTag.McuStartsHigh);
  if (high && high.count !== count) throw new SlideError('CORRUPT', `${where}: McuStarts and its high words have different counts`);
  const table: IntervalStarts = high ? { kind: 'tag', low, high } : { kind: 'tag', low };
  const first = await intervalStart(tiff, table, 0, signal);
  const last = await intervalStart(tiff, table, count - 1, signal);
  if (first !== headerLength || !(last > first && last < stripLength)) {
    throw new SlideError('CORRUPT', `${where}: McuStarts points outside the level's image data`);
  }
  return table;
}

async function intervalStart(tiff: TiffFile, t: { low: TiffEntry; high?: TiffEntry }, k: number, signal?: AbortSignal): Promise<number> {
  const [low] = await tiff.readNumbers(t.low, k, 1, signal);
  const [high] = t.high ? await tiff.readNumbers(t.high, k, 1, signal) : [0];
  return high! * 0x100000000 + low!;
}

/** Offsets [start, end) of interval k within the strip. */
async function intervalExtent(tiff: TiffFile, l: NdpiLevel, k: number, count: number, signal?: AbortSignal): Promise<[number, number]> {
  let start: number, end: number;
  if (l.starts.kind === 'tag') {
    start = await intervalStart(tiff, l.starts, k, signal);
    end = k + 1 < count ? await intervalStart(tiff, l.starts, k + 1, signal) : l.stripLength;
  } else {
    if (l.stripLength > MAX_SCAN) throw new SlideError('UNSUPPORTED', 'an NDPI level without a usable interval table is too large to scan');
    const s = l.starts;
    s.found ??= scanRestartIntervals(l.jpeg.headerLength, l.stripLength, (o, n) => tiff.source.read(l.stripOffset + o, n, signal));
    const found = await s.found;
    if (found.length !== count) throw new SlideError('CORRUPT', 'an NDPI level has a different number of restart intervals than its size needs');
    start = found[k]!;
    end = k + 1 < count ? found[k + 1]! : l.stripLength;
  }
  if (!(start >= l.jpeg.headerLength && end > start && end <= l.stripLength)) {
    throw new SlideError('CORRUPT', 'McuStarts points outside the level\'s image data');
  }
  return [start, end];
}

/** Tile (col,row) of an NDPI level as a standalone JPEG. */
export async function readNdpiTile(tiff: TiffFile, l: NdpiLevel, col: number, row: number, signal?: AbortSignal): Promise<EncodedTile> {
  if (!(Number.isInteger(col) && Number.isInteger(row) && col >= 0 && row >= 0 && col < l.across && row < l.down)) {
    throw new SlideError('BAD_REQUEST', `tile ${col},${row} is outside the level`);
  }
  if (l.intervalsPerRow === 0) {
    if (l.stripLength > MAX_TILE_BYTES) throw new SlideError('UNSUPPORTED', 'an NDPI level without restart markers is too large to show');
    const raw = await tiff.source.read(l.stripOffset, l.stripLength, signal);
    if (raw.length !== l.stripLength) throw new SlideError('TRUNCATED', 'the file ends inside an image');
    return { bytes: withFrameSize(raw, l.jpeg, l.width, l.height), codec: 'image/jpeg', width: l.width, height: l.height };
  }
  const count = l.intervalsPerRow * l.mcuRows;
  const firstRow = row * l.rowsPerTile;
  const rows = Math.min(l.rowsPerTile, l.mcuRows - firstRow);
  const intervals: Uint8Array[] = [];
  let bytes = 0;
  for (let r = firstRow; r < firstRow + rows; r++) {
    const [start, end] = await intervalExtent(tiff, l, r * l.intervalsPerRow + col, count, signal);
    bytes += end - start;
    if (bytes > MAX_TILE_BYTES) throw new SlideError('UNSUPPORTED', 'a tile is too large to read');
    const iv = await tiff.source.read(l.stripOffset + start, end - start, signal);
    if (iv.length !== end - start) throw new SlideError('TRUNCATED', 'the file ends inside an image');
    intervals.push(iv);
  }
  const width = Math.min(l.tileWidth, l.width - col * l.tileWidth);
  const height = Math.min(rows * l.jpeg.mcuHeight, l.height - firstRow * l.jpeg.mcuHeight);
  return { bytes: restartIntervalJpeg(l.header, l.jpeg, intervals, width, height), codec: 'image/jpeg', width, height };
}
