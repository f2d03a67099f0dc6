import { SlideError, throwIfAborted } from '../../shared/errors.ts';
import { StreamKind, type CodestreamList } from '../codecs/segment-scrubber.ts';
import { RangeSet } from '../redact/ranges.ts';
import { Tag, tagName } from './tags.ts';
import type { Ifd, TiffEntry, TiffFile } from './tifflike.ts';

/**
 * The bytes a TIFF's structure accounts for — the allowlist map. The planner adds what it keeps
 * (kept IFDs, the values of their kept tags, the strips/tiles of kept images) and zero-fills the
 * rest; the output-alone verification adds everything the output's own structure references and
 * requires every other byte to be zero. Both use this one description of "what an IFD owns".
 */
export class StructureMap {
  /** Everything accounted for. */
  readonly ranges = new RangeSet();
  /** The same minus the header and IFD blocks: what an in-place IFD rewrite must never touch. */
  readonly data = new RangeSet();
  private readonly starts: number[] = [];
  private readonly lengths: number[] = [];
  private readonly kinds: StreamKind[] = [];

  constructor(readonly tiff: TiffFile, withHeader = true) {
    if (withHeader) this.ranges.add(0, tiff.headerSize);
  }

  addBlock(ifd: Ifd): void {
    this.ranges.add(ifd.offset, ifd.offset + ifd.byteLength);
  }

  addValue(e: TiffEntry): void {
    if (!e.inline) this.addData(e.valueOffset, e.valueOffset + e.byteLength);
  }

  private addData(start: number, end: number): void {
    this.ranges.add(start, end);
    this.data.add(start, end);
  }

  /** The image data an IFD's own tags point to: strips/tiles, an old-style JPEG stream, JPEGTables. */
  async addImageData(ifd: Ifd, signal?: AbortSignal): Promise<void> {
    const tiff = this.tiff;
    const compression = tiff.number(ifd, Tag.Compression) ?? 1;
    const kind = codestreamKind(compression);
    const tables = tiff.entry(ifd, Tag.JPEGTables);
    if (tables && !tables.inline && kind === StreamKind.Jpeg) this.addStream(tables.valueOffset, tables.byteLength, StreamKind.Jpeg);
    const tiled = tiff.entry(ifd, Tag.TileOffsets) !== undefined;
    const offsets = tiff.entry(ifd, tiled ? Tag.TileOffsets : Tag.StripOffsets);
    const counts = tiff.entry(ifd, tiled ? Tag.TileByteCounts : Tag.StripByteCounts);
    if (offsets && counts) {
      for await (const x of rawExtents(tiff, offsets, counts, signal)) {
        this.addData(x.offset, x.offset + x.length);
        if (kind !== undefined) this.addStream(x.offset, x.length, kind);
      }
    }
    const jif = tiff.number(ifd, Tag.JPEGInterchangeFormat);
    const jifLength = tiff.number(ifd, Tag.JPEGInterchangeFormatLength);
    if (jif !== undefined && jifLength !== undefined && jifLength > 0) {
      if (jif + jifLength > tiff.size) throw new SlideError('TRUNCATED', `${tagName(Tag.JPEGInterchangeFormat)} runs past the end of the file`);
      this.addData(jif, jif + jifLength);
      this.addStream(jif, jifLength, StreamKind.Jpeg);
    }
  }

  /**
   * An IFD and everything below it, whole: its block, every value, its image data, its child
   * directories (a directory the user chose to keep, or any directory of an output being verified).
   * `skipValue`: values not to add (a removed directory's value that a kept entry shares).
   */
  async addTree(ifd: Ifd, signal?: AbortSignal, skipValue?: (e: TiffEntry) => boolean): Promise<void> {
    throwIfAborted(signal);
    this.addBlock(ifd);
    for (const e of ifd.entries) if (!skipValue?.(e)) this.addValue(e);
    await this.addImageData(ifd, signal);
    for (const c of ifd.children) await this.addTree(c.ifd, signal, skipValue);
  }

  addStream(start: number, length: number, kind: StreamKind): void {
    if (length <= 0) return;
    this.starts.push(start);
    this.lengths.push(length);
    this.kinds.push(kind);
  }

  /** The codestreams, sorted, one per start (tiles that share bytes are one stream). */
  codestreams(): CodestreamList {
    const n = this.starts.length;
    let sorted = true;
    for (let i = 1; i < n && sorted; i++) sorted = this.starts[i - 1]! <= this.starts[i]!;
    const order = Array.from({ length: n }, (_, i) => i);
    if (!sorted) order.sort((a, b) => this.starts[a]! - this.starts[b]!);
    const out: CodestreamList = { starts: [], lengths: [], kinds: [] };
    for (const i of order) {
      const last = out.starts.length - 1;
      if (last >= 0 && out.starts[last] === this.starts[i]) {
        out.lengths[last] = Math.max(out.lengths[last]!, this.lengths[i]!);
        continue;
      }
      out.starts.push(this.starts[i]!);
      out.lengths.push(this.lengths[i]!);
      out.kinds.push(this.kinds[i]!);
    }
    return out;
  }
}

/** JPEG (7; 6 = old-style) and JPEG 2000 tiles carry marker segments that may hold text. */
export function codestreamKind(compression: number): StreamKind | undefined {
  if (compression === 7 || compression === 6) return StreamKind.Jpeg;
  if (compression === 33003 || compression === 33005 || compression === 34712) return StreamKind.Jpeg2000;
  return undefined;
}

/**
 * Strip/tile extents straight from an IFD's offset and byte count arrays (read in slices: a level
 * can have 100k+ tiles), whatever the image geometry says: every byte they point to is accounted.
 */
export async function* rawExtents(tiff: TiffFile, offsets: TiffEntry, counts: TiffEntry, signal?: AbortSignal): AsyncGenerator<{ offset: number; length: number }> {
  if (offsets.count !== counts.count) throw new SlideError('CORRUPT', `${offsets.count} strip/tile offsets but ${counts.count} byte counts`);
  const slice = 16384;
  for (let start = 0; start < offsets.count; start += slice) {
    throwIfAborted(signal);
    const n = Math.min(slice, offsets.count - start);
    const offs = await tiff.readNumbers(offsets, start, n, signal);
    const lens = await tiff.readNumbers(counts, start, n, signal);
    for (let i = 0; i < n; i++) {
      const offset = offs[i]!, length = lens[i]!;
      if (length === 0) continue;
      if (!(Number.isFinite(offset) && Number.isFinite(length) && offset >= 0 && length > 0)) throw new SlideError('CORRUPT', 'a strip/tile has an invalid offset or length');
      if (offset + length > tiff.size) throw new SlideError('TRUNCATED', `pixel data runs past the end of the file (${offset + length} > ${tiff.size})`);
      yield { offset, length };
    }
  }
}
