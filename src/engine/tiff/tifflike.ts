import type { ByteSource } from '../io/byte-source.ts';
import { BlockedSource } from '../io/blocked-source.ts';
import { latin1 } from '../../shared/bytes.ts';
import { SlideError, throwIfAborted } from '../../shared/errors.ts';
import { CHILD_IFD_TAGS, Tag, tagName, typeSize, TYPE_ASCII } from './tags.ts';

/**
 * A parsed view of a TIFF or BigTIFF file (either byte order). Only the IFDs and small tag values
 * are read when the file is opened; large arrays (TileOffsets of a 100k-tile level) stay on disk
 * and are read on demand, in slices. Every structural problem becomes a SlideError:
 * CORRUPT for things that cannot be right (cycles, absurd counts, pointers into the header),
 * TRUNCATED for structure that runs past the end of the file.
 */

/** Values up to this size are read while parsing, everything larger on demand. */
const EAGER_VALUE_BYTES = 64 * 1024;
/** libtiff caps classic directories at 65535 entries; nothing real comes close. */
const MAX_ENTRIES = 65535;
/** A slide has tens of IFDs; thousands means a loop or garbage. */
const MAX_IFDS = 4096;

export interface TiffEntry {
  tag: number;
  type: number;
  count: number;
  /** Absolute offset of the 12-byte (classic) or 20-byte (BigTIFF) entry. */
  entryOffset: number;
  /** Absolute offset of the value bytes: inside the entry when `inline`. */
  valueOffset: number;
  byteLength: number;
  inline: boolean;
  /** The value bytes if small enough to be read at parse time (inline: as stored, low word only for NDPI). */
  value?: Uint8Array;
  /**
   * NDPI only: the entry's 32-bit extension word as stored after the directory (see `ndpi`). For
   * an offset it is already part of `valueOffset`; for an inline LONG/SLONG it is the high half of
   * a 64-bit value (a StripOffsets past 4 GiB), which number()/readNumbers() include.
   */
  high?: number;
}

export type IfdKind = 'main' | 'sub' | 'exif' | 'gps' | 'interop';

export interface Ifd {
  kind: IfdKind;
  /** Position in the main chain (0-based); for child IFDs the parent's index. */
  index: number;
  offset: number;
  /** Size of the whole directory block: count + entries + next pointer (+ NDPI extension words). */
  byteLength: number;
  entries: TiffEntry[];
  nextOffset: number;
  /** Absolute offset of this IFD's next-IFD pointer (4 bytes classic, 8 BigTIFF and NDPI). */
  nextPointerOffset: number;
  /** Child IFDs reached through SubIFDs / EXIF / GPS / Interop pointers, by the tag that points. */
  children: { tag: number; ifd: Ifd }[];
}

/**
 * Hamamatsu NDPI is classic TIFF (version 42, 12-byte entries, 4-byte value fields) that reaches
 * past 4 GiB by widening every offset to 64 bits (as OpenSlide 4 and tifffile read it):
 *  - the header's first-IFD pointer is 8 bytes (bytes 4–11), so the header is 12 bytes;
 *  - each IFD's next pointer is 8 bytes;
 *  - after the next pointer, one 32-bit word per entry (same order) holds the high half of that
 *    entry's value offset, or of its inline LONG/SLONG value (StripOffsets/StripByteCounts);
 *  - ASCII values are always stored at an offset, even when they would fit inline.
 * A classic TIFF is read in NDPI mode when its first directory, located through the 8-byte
 * pointer, carries tag 65420 (NDPI's format flag) — OpenSlide's test. (OpenSlide 3.4.1 ignored
 * the extension words and guessed the high half from the directory's own offset; libtiff knows
 * nothing of NDPI and sees only the low 32 bits.) Offsets are plain numbers up to 2^53.
 */
export const NDPI_FORMAT_FLAG = 65420;

export class TiffFile {
  /** Main IFD chain in file order. */
  readonly ifds: Ifd[] = [];
  readonly headerSize: number;
  /** Size of an entry's value field (4 classic and NDPI, 8 BigTIFF). */
  readonly offsetSize: 4 | 8;
  /** Size of the header's first-IFD pointer and of each next-IFD pointer (8 BigTIFF and NDPI). */
  readonly pointerSize: 4 | 8;
  readonly entrySize: 12 | 20;
  readonly countSize: 2 | 8;
  /** Absolute offset of the header's first-IFD pointer. */
  readonly firstIfdPointerOffset: number;
  private readonly visited = new Set<number>();

  private constructor(
    readonly source: ByteSource,
    readonly littleEndian: boolean,
    readonly bigTiff: boolean,
    /** Hamamatsu NDPI's 64-bit extension of classic TIFF (see NDPI_FORMAT_FLAG). */
    readonly ndpi = false,
  ) {
    this.headerSize = bigTiff ? 16 : ndpi ? 12 : 8;
    this.offsetSize = bigTiff ? 8 : 4;
    this.pointerSize = bigTiff || ndpi ? 8 : 4;
    this.entrySize = bigTiff ? 20 : 12;
    this.countSize = bigTiff ? 8 : 2;
    this.firstIfdPointerOffset = bigTiff ? 8 : 4;
  }

  get size(): number {
    return this.source.size;
  }

  /** Cheap magic check: is this a TIFF or BigTIFF header? */
  static sniff(head: Uint8Array): boolean {
    if (head.length < 4) return false;
    const le = head[0] === 0x49 && head[1] === 0x49;
    const be = head[0] === 0x4d && head[1] === 0x4d;
    if (!le && !be) return false;
    const version = le ? head[2]! | (head[3]! << 8) : (head[2]! << 8) | head[3]!;
    return version === 42 || version === 43;
  }

  static async open(raw: ByteSource, signal?: AbortSignal): Promise<TiffFile> {
    const source = raw instanceof BlockedSource ? raw : new BlockedSource(raw);
    const head = await source.read(0, 16, signal);
    if (!TiffFile.sniff(head)) throw new SlideError('NOT_RECOGNIZED', 'not a TIFF file');
    const le = head[0] === 0x49;
    const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
    const version = dv.getUint16(2, le);
    const big = version === 43;
    if (big) {
      if (head.length < 16) throw new SlideError('TRUNCATED', 'the file ends inside its TIFF header');
      if (dv.getUint16(4, le) !== 8 || dv.getUint16(6, le) !== 0) throw new SlideError('CORRUPT', 'unsupported BigTIFF offset size');
    } else if (head.length < 8) throw new SlideError('TRUNCATED', 'the file ends inside its TIFF header');
    const ndpi = !big && head.length >= 12 && (await isNdpiDirectory(source, le, dv, signal));
    const tiff = new TiffFile(source, le, big, ndpi);
    let next = tiff.readPointer(dv, big ? 8 : 4, 'the first IFD pointer');
    if (next === 0) throw new SlideError('CORRUPT', 'the TIFF has no image directory');
    while (next !== 0) {
      throwIfAborted(signal);
      if (tiff.ifds.length >= MAX_IFDS) throw new SlideError('CORRUPT', `more than ${MAX_IFDS} image directories`);
      const ifd = await tiff.readIfd(next, 'main', tiff.ifds.length, signal);
      tiff.ifds.push(ifd);
      next = ifd.nextOffset;
    }
    return tiff;
  }

  /** Decode an unsigned offset of this file's width at `pos` of `dv`; rejects values above 2^53. */
  private readOffset(dv: DataView, pos: number, what: string): number {
    if (!this.bigTiff) return dv.getUint32(pos, this.littleEndian);
    return u64(dv, pos, this.littleEndian, what);
  }

  /** Decode a first/next-IFD pointer (8 bytes in BigTIFF and NDPI). */
  private readPointer(dv: DataView, pos: number, what: string): number {
    if (this.pointerSize === 4) return dv.getUint32(pos, this.littleEndian);
    return u64(dv, pos, this.littleEndian, what);
  }

  private checkPointer(offset: number, length: number, what: string): void {
    if (offset < this.headerSize) throw new SlideError('CORRUPT', `${what} points into the file header (offset ${offset})`);
    if (offset + length > this.size) {
      throw new SlideError('TRUNCATED', `${what} lies past the end of the file (needs bytes up to ${offset + length}, the file has ${this.size}): the file is incomplete or damaged`);
    }
  }

  private async readIfd(offset: number, kind: IfdKind, index: number, signal?: AbortSignal): Promise<Ifd> {
    const what = kind === 'main' ? `image directory ${index}` : `${kind} directory of image directory ${index}`;
    if (this.visited.has(offset)) throw new SlideError('CORRUPT', `the image directories form a loop (${what} repeats offset ${offset})`);
    if (this.visited.size >= MAX_IFDS) throw new SlideError('CORRUPT', `more than ${MAX_IFDS} image directories`);
    this.visited.add(offset);
    this.checkPointer(offset, this.countSize, what);
    const countBytes = await this.source.read(offset, this.countSize, signal);
    const cdv = view(countBytes);
    const count = this.bigTiff ? u64(cdv, 0, this.littleEndian, `${what} entry count`) : cdv.getUint16(0, this.littleEndian);
    if (count === 0 || count > MAX_ENTRIES) throw new SlideError('CORRUPT', `${what} claims ${count} entries`);
    const extensionAt = this.countSize + count * this.entrySize + this.pointerSize;
    const byteLength = extensionAt + (this.ndpi ? 4 * count : 0);
    this.checkPointer(offset, byteLength, what);
    const block = await this.source.read(offset, byteLength, signal);
    const dv = view(block);
    const entries: TiffEntry[] = [];
    const seen = new Set<number>();
    for (let i = 0; i < count; i++) {
      const p = this.countSize + i * this.entrySize;
      const tag = dv.getUint16(p, this.littleEndian);
      // Readers disagree on which of two equal tags counts (libtiff takes the first): a second
      // copy would be a value no decision covers. The TIFF spec forbids it; refuse the file.
      if (seen.has(tag)) throw new SlideError('CORRUPT', `${what} lists ${tagName(tag)} twice`);
      seen.add(tag);
      const type = dv.getUint16(p + 2, this.littleEndian);
      const n = this.bigTiff ? u64(dv, p + 4, this.littleEndian, `${tagName(tag)} count`) : dv.getUint32(p + 4, this.littleEndian);
      const valueFieldPos = p + (this.bigTiff ? 12 : 8);
      const size = typeSize(type);
      // An unknown field type has no known length: its value field may point at bytes (text) that
      // nothing else accounts for, which kept data could then overlap unseen. Refused, not ignored.
      if (size === 0) throw new SlideError('CORRUPT', `${what}: ${tagName(tag)} has an unknown field type (${type})`);
      const byteLen = size * n;
      const inline = byteLen <= this.offsetSize && !(this.ndpi && type === TYPE_ASCII);
      const high = this.ndpi ? dv.getUint32(extensionAt + 4 * i, this.littleEndian) : 0;
      if (inline && high !== 0 && !((type === 4 || type === 9) && n === 1)) {
        // Only a single LONG/SLONG can be widened to 64 bits; anything else has no meaning.
        throw new SlideError('CORRUPT', `${what}: ${tagName(tag)} has an NDPI high word that does not fit its type`);
      }
      if (high >= 0x200000) throw new SlideError('CORRUPT', `${what}: the NDPI high word of ${tagName(tag)} is out of range`);
      let valueOffset = offset + valueFieldPos;
      if (!inline) {
        // A count whose bytes cannot fit in the whole file is garbage, not truncation.
        if (byteLen > this.size) throw new SlideError('CORRUPT', `${what}: ${tagName(tag)} claims ${n} values, more than the file could hold`);
        valueOffset = this.readOffset(dv, valueFieldPos, `${tagName(tag)} value offset`) + high * 0x100000000;
        this.checkPointer(valueOffset, byteLen, `${what}: the value of ${tagName(tag)}`);
      }
      const entry: TiffEntry = { tag, type, count: n, entryOffset: offset + p, valueOffset, byteLength: byteLen, inline };
      if (this.ndpi) entry.high = high;
      if (inline) entry.value = block.slice(valueFieldPos, valueFieldPos + byteLen);
      entries.push(entry);
    }
    const nextPointerAt = extensionAt - this.pointerSize;
    const nextPointerOffset = offset + nextPointerAt;
    const nextOffset = kind === 'main' || kind === 'sub' ? this.readPointer(dv, nextPointerAt, `${what} next pointer`) : 0;
    const ifd: Ifd = { kind, index, offset, byteLength, entries, nextOffset, nextPointerOffset, children: [] };
    for (const e of entries) {
      if (!e.inline && e.byteLength <= EAGER_VALUE_BYTES) e.value = await this.readChecked(e.valueOffset, e.byteLength, signal);
    }
    for (const e of entries) {
      if (!CHILD_IFD_TAGS.has(e.tag)) continue;
      const childKind: IfdKind = e.tag === Tag.SubIFDs ? 'sub' : e.tag === Tag.ExifIFD ? 'exif' : e.tag === Tag.GPSIFD ? 'gps' : 'interop';
      for (const childOffset of await this.readNumbers(e, 0, Math.min(e.count, 64), signal)) {
        if (childOffset === 0) continue;
        let next = childOffset;
        // SubIFDs may chain; EXIF/GPS directories have no meaningful next pointer.
        while (next !== 0) {
          const child = await this.readIfd(next, childKind, index, signal);
          ifd.children.push({ tag: e.tag, ifd: child });
          next = child.nextOffset;
        }
      }
    }
    return ifd;
  }

  private async readChecked(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array> {
    const b = await this.source.read(offset, length, signal);
    if (b.length !== length) throw new SlideError('TRUNCATED', `the file ends at ${this.size} bytes, inside data that needs ${offset + length}`);
    return b;
  }

  entry(ifd: Ifd, tag: number): TiffEntry | undefined {
    return ifd.entries.find((e) => e.tag === tag);
  }

  /** Raw value bytes of an entry (read now if it was too large to read eagerly). */
  async bytes(e: TiffEntry, signal?: AbortSignal): Promise<Uint8Array> {
    if (e.value) return e.value;
    if (typeSize(e.type) === 0) return new Uint8Array(0);
    return this.readChecked(e.valueOffset, e.byteLength, signal);
  }

  /** Numeric values [start, start+n) of an entry; reads only that slice for large arrays. */
  async readNumbers(e: TiffEntry, start = 0, n = e.count - start, signal?: AbortSignal): Promise<number[]> {
    const size = typeSize(e.type);
    if (size === 0 || start < 0 || start + n > e.count) throw new SlideError('CORRUPT', `${tagName(e.tag)}: index out of range`);
    const bytes = e.value ? e.value.subarray(start * size, (start + n) * size) : await this.readChecked(e.valueOffset + start * size, n * size, signal);
    return widen(e, decodeNumbers(bytes, e.type, this.littleEndian, tagName(e.tag)));
  }

  /** First value of a numeric tag, if present and small (read at parse time). */
  number(ifd: Ifd, tag: number): number | undefined {
    const e = this.entry(ifd, tag);
    if (!e?.value || e.count === 0) return undefined;
    const size = typeSize(e.type);
    return widen(e, decodeNumbers(e.value.subarray(0, size), e.type, this.littleEndian, tagName(tag)))[0];
  }

  numbers(ifd: Ifd, tag: number): number[] | undefined {
    const e = this.entry(ifd, tag);
    if (!e?.value) return undefined;
    return widen(e, decodeNumbers(e.value, e.type, this.littleEndian, tagName(tag)));
  }

  /** Latin-1 text of an ASCII tag, without trailing NULs (latin-1 keeps char index == byte index). */
  ascii(ifd: Ifd, tag: number): string | undefined {
    const e = this.entry(ifd, tag);
    if (!e?.value) return undefined;
    return latin1(trimNul(e.value));
  }

  isTiled(ifd: Ifd): boolean {
    return this.entry(ifd, Tag.TileOffsets) !== undefined && this.entry(ifd, Tag.TileWidth) !== undefined;
  }

  /** Every IFD in the file: main chain plus children, depth-first. */
  allIfds(): Ifd[] {
    const out: Ifd[] = [];
    const walk = (ifd: Ifd) => {
      out.push(ifd);
      for (const c of ifd.children) walk(c.ifd);
    };
    for (const ifd of this.ifds) walk(ifd);
    return out;
  }

  /**
   * Encode an entry's value field (an offset) in this file's byte order. NDPI: the low 32 bits
   * only; the high half goes after the directory (ndpiExtension).
   */
  encodeOffset(value: number): Uint8Array {
    if (this.ndpi) value %= 0x100000000;
    const out = new Uint8Array(this.offsetSize);
    const dv = view(out);
    if (this.offsetSize === 4) dv.setUint32(0, value, this.littleEndian);
    else setU64(dv, 0, value, this.littleEndian);
    return out;
  }

  /** Encode a first/next-IFD pointer (8 bytes in BigTIFF and NDPI). */
  encodePointer(value: number): Uint8Array {
    const out = new Uint8Array(this.pointerSize);
    const dv = view(out);
    if (this.pointerSize === 4) dv.setUint32(0, value, this.littleEndian);
    else setU64(dv, 0, value, this.littleEndian);
    return out;
  }

  /**
   * NDPI: the extension words that follow a directory's next pointer, one per entry in the order
   * given (the kept entries of a rewritten directory): the high half of each offset, or the stored
   * high word of an inline value.
   */
  ndpiExtension(entries: readonly TiffEntry[]): Uint8Array {
    const out = new Uint8Array(4 * entries.length);
    const dv = view(out);
    entries.forEach((e, i) => dv.setUint32(4 * i, e.inline ? (e.high ?? 0) : Math.floor(e.valueOffset / 0x100000000), this.littleEndian));
    return out;
  }

  encodeCount(value: number): Uint8Array {
    const out = new Uint8Array(this.countSize);
    const dv = view(out);
    if (this.countSize === 2) dv.setUint16(0, value, this.littleEndian);
    else setU64(dv, 0, value, this.littleEndian);
    return out;
  }
}

/**
 * OpenSlide's NDPI test: read the directory at the header's 8-byte pointer in NDPI layout and look
 * for tag 65420 among its entries. Anything that does not parse means "not NDPI", never an error.
 */
async function isNdpiDirectory(source: ByteSource, le: boolean, head: DataView, signal?: AbortSignal): Promise<boolean> {
  let offset: number;
  try {
    offset = u64(head, 4, le, 'NDPI first IFD pointer');
  } catch {
    return false;
  }
  if (offset < 12 || offset + 2 > source.size) return false;
  const count = view(await source.read(offset, 2, signal)).getUint16(0, le);
  if (count === 0 || offset + 2 + count * 12 > source.size) return false;
  const entries = view(await source.read(offset + 2, count * 12, signal));
  for (let i = 0; i < count; i++) {
    if (entries.getUint16(i * 12, le) === NDPI_FORMAT_FLAG && entries.getUint32(i * 12 + 4, le) > 0) return true;
  }
  return false;
}

/** An inline NDPI LONG/SLONG with a high word is one 64-bit number (its low half as decoded). */
function widen(e: TiffEntry, values: number[]): number[] {
  if (!e.inline || !e.high || values.length !== 1) return values;
  // The parser refuses high words >= 2^21, so the result is a non-negative safe integer.
  const low = values[0]! < 0 ? values[0]! + 0x100000000 : values[0]!;
  return [e.high * 0x100000000 + low];
}

export function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** Unsigned 64-bit read as a JS number; anything above 2^53 cannot be a real offset or count. */
export function u64(dv: DataView, pos: number, le: boolean, what: string): number {
  const lo = dv.getUint32(pos + (le ? 0 : 4), le);
  const hi = dv.getUint32(pos + (le ? 4 : 0), le);
  if (hi >= 0x200000) throw new SlideError('CORRUPT', `${what} is out of range`);
  return hi * 0x100000000 + lo;
}

export function setU64(dv: DataView, pos: number, value: number, le: boolean): void {
  const hi = Math.floor(value / 0x100000000);
  const lo = value - hi * 0x100000000;
  dv.setUint32(pos + (le ? 0 : 4), lo, le);
  dv.setUint32(pos + (le ? 4 : 0), hi, le);
}

export function decodeNumbers(bytes: Uint8Array, type: number, le: boolean, what: string): number[] {
  const dv = view(bytes);
  const size = typeSize(type);
  const n = size === 0 ? 0 : Math.floor(bytes.length / size);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const p = i * size;
    switch (type) {
      case 1: case 2: case 7: out[i] = dv.getUint8(p); break;
      case 6: out[i] = dv.getInt8(p); break;
      case 3: out[i] = dv.getUint16(p, le); break;
      case 8: out[i] = dv.getInt16(p, le); break;
      case 4: case 13: out[i] = dv.getUint32(p, le); break;
      case 9: out[i] = dv.getInt32(p, le); break;
      case 11: out[i] = dv.getFloat32(p, le); break;
      case 12: out[i] = dv.getFloat64(p, le); break;
      case 5: { const d = dv.getUint32(p + 4, le); out[i] = d === 0 ? NaN : dv.getUint32(p, le) / d; break; }
      case 10: { const d = dv.getInt32(p + 4, le); out[i] = d === 0 ? NaN : dv.getInt32(p, le) / d; break; }
      case 16: case 18: out[i] = u64(dv, p, le, what); break;
      case 17: out[i] = Number(dv.getBigInt64(p, le)); break;
      default: out[i] = NaN;
    }
  }
  return out;
}

export function trimNul(b: Uint8Array): Uint8Array {
  let end = b.length;
  while (end > 0 && b[end - 1] === 0) end--;
  return b.subarray(0, end);
}

export { latin1 };

export function latin1Bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

/** Human display of text bytes: UTF-8 if valid, else latin-1. */
export function displayText(b: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(b);
  } catch {
    return latin1(b);
  }
}

export { TYPE_ASCII };
