import { SlideError } from '../../shared/errors.ts';
import { Tag } from './tags.ts';
import type { Ifd, TiffEntry, TiffFile } from './tifflike.ts';

/** What a driver and the tile reader need to know about one image directory. */
export interface TiffImageInfo {
  ifd: Ifd;
  width: number;
  height: number;
  tiled: boolean;
  /** Tile size, or for strips: width x RowsPerStrip. */
  tileWidth: number;
  tileHeight: number;
  across: number;
  down: number;
  compression: number;
  photometric: number;
  samplesPerPixel: number;
  bitsPerSample: number;
  predictor: number;
  planar: number;
  newSubfileType: number;
  offsets: TiffEntry;
  byteCounts: TiffEntry;
}

const MAX_DIMENSION = 2 ** 31;

/**
 * Image geometry of an IFD, checked for consistency; undefined when the IFD holds no image data
 * (no strip or tile offsets). The last tile/strip is checked against the file size so a truncated
 * file fails at inspection, reading only two numbers (never the whole offset array).
 */
export async function readImageInfo(tiff: TiffFile, ifd: Ifd, signal?: AbortSignal): Promise<TiffImageInfo | undefined> {
  const tiled = tiff.isTiled(ifd);
  const offsets = tiff.entry(ifd, tiled ? Tag.TileOffsets : Tag.StripOffsets);
  const byteCounts = tiff.entry(ifd, tiled ? Tag.TileByteCounts : Tag.StripByteCounts);
  if (!offsets) return undefined;
  const where = ifd.kind === 'main' ? `image directory ${ifd.index}` : `a ${ifd.kind} directory`;
  if (!byteCounts) throw new SlideError('CORRUPT', `${where} has data offsets but no byte counts`);
  const width = tiff.number(ifd, Tag.ImageWidth) ?? 0;
  const height = tiff.number(ifd, Tag.ImageLength) ?? 0;
  if (!(width > 0 && height > 0 && width < MAX_DIMENSION && height < MAX_DIMENSION)) {
    throw new SlideError('CORRUPT', `${where} has an invalid image size`);
  }
  const spp = tiff.number(ifd, Tag.SamplesPerPixel) ?? 1;
  const planar = tiff.number(ifd, Tag.PlanarConfig) ?? 1;
  let tileWidth: number, tileHeight: number;
  if (tiled) {
    tileWidth = tiff.number(ifd, Tag.TileWidth) ?? 0;
    tileHeight = tiff.number(ifd, Tag.TileLength) ?? 0;
  } else {
    tileWidth = width;
    const rps = tiff.number(ifd, Tag.RowsPerStrip);
    tileHeight = rps === undefined || rps > height ? height : rps;
  }
  if (!(tileWidth > 0 && tileHeight > 0 && tileWidth < MAX_DIMENSION && tileHeight < MAX_DIMENSION)) {
    throw new SlideError('CORRUPT', `${where} has an invalid tile or strip size`);
  }
  const across = Math.ceil(width / tileWidth);
  const down = Math.ceil(height / tileHeight);
  const expected = across * down * (planar === 2 ? spp : 1);
  if (offsets.count < expected || byteCounts.count !== offsets.count) {
    throw new SlideError('CORRUPT', `${where} lists ${offsets.count} tiles/strips and ${byteCounts.count} byte counts, but its size needs ${expected}`);
  }
  const last = offsets.count - 1;
  if (offsets.count === 0) throw new SlideError('CORRUPT', `${where} has no tiles or strips`);
  const [lastOffset] = await tiff.readNumbers(offsets, last, 1, signal);
  const [lastCount] = await tiff.readNumbers(byteCounts, last, 1, signal);
  if (lastOffset! + lastCount! > tiff.size) {
    throw new SlideError('TRUNCATED', `the file ends at ${tiff.size} bytes but the pixel data of ${where} runs to ${lastOffset! + lastCount!}: the file is incomplete`);
  }
  return {
    ifd, width, height, tiled, tileWidth, tileHeight, across, down,
    compression: tiff.number(ifd, Tag.Compression) ?? 1,
    photometric: tiff.number(ifd, Tag.Photometric) ?? 2,
    samplesPerPixel: spp,
    bitsPerSample: tiff.number(ifd, Tag.BitsPerSample) ?? 1,
    predictor: tiff.number(ifd, Tag.Predictor) ?? 1,
    planar,
    newSubfileType: tiff.number(ifd, Tag.NewSubfileType) ?? 0,
    offsets, byteCounts,
  };
}
