import type { ByteSource } from '../io/byte-source.ts';
import { SlideError, throwIfAborted } from '../../shared/errors.ts';
import type { PixelDataHeader } from './part10.ts';

/** One fragment (item value) of encapsulated pixel data, by absolute offset. */
export interface Fragment {
  offset: number;
  length: number;
  /**
   * The fragment's first two bytes (big-endian), when the header read already covered them: a
   * codestream start marker there (JPEG SOI FFD8, JPEG 2000 SOC FF4F) says a frame begins, which
   * is how frames split over several fragments are found when there is no offset table.
   */
  lead?: number;
}

export interface PixelDataLayout {
  encapsulated: boolean;
  /** Bytes of the element value to copy: native value, or every item incl. the sequence delimiter. */
  valueOffset: number;
  valueLength: number;
  /** First byte after the Pixel Data element. */
  end: number;
  /** Encapsulated only: the fragments after the Basic Offset Table item. */
  fragments: Fragment[];
  /** Encapsulated only: Basic Offset Table entries (relative to the first fragment's item tag). */
  basicOffsetTable: number[];
}

const ITEM = 0xe000;
const SEQ_DELIM = 0xe0dd;
const WINDOW = 16 * 1024;

/**
 * Reads small item headers through a read-ahead window: tiles are often a few KB, so one read
 * covers many item headers, while large fragments cost one small read each — never the data.
 */
class HeaderReader {
  private start = 0;
  private buf: Uint8Array = new Uint8Array(0);
  constructor(private readonly source: ByteSource, private readonly signal?: AbortSignal) {}
  async read8(offset: number): Promise<Uint8Array | undefined> {
    if (offset < this.start || offset + 8 > this.start + this.buf.length) {
      this.start = offset;
      this.buf = await this.source.read(offset, WINDOW, this.signal);
    }
    const at = offset - this.start;
    return at + 8 <= this.buf.length ? this.buf.subarray(at, at + 8) : undefined;
  }
  /** The two bytes at `offset` if the current window holds them (no extra read). */
  peek16(offset: number): number | undefined {
    const at = offset - this.start;
    return at >= 0 && at + 2 <= this.buf.length ? this.buf[at]! * 256 + this.buf[at + 1]! : undefined;
  }
}

/**
 * Locate the pixel data value without reading it: for native data check the declared length
 * against the file; for encapsulated data walk the item headers (Basic Offset Table, fragments,
 * sequence delimiter).
 */
export async function walkPixelData(source: ByteSource, pixel: PixelDataHeader, signal?: AbortSignal): Promise<PixelDataLayout> {
  const name = source.name;
  if (pixel.declaredLength >= 0) {
    const end = pixel.valueOffset + pixel.declaredLength;
    if (end > source.size) throw new SlideError('TRUNCATED', `${name}: the pixel data is cut short (file ends ${end - source.size} bytes early)`);
    return { encapsulated: false, valueOffset: pixel.valueOffset, valueLength: pixel.declaredLength, end, fragments: [], basicOffsetTable: [] };
  }
  const reader = new HeaderReader(source, signal);
  const fragments: Fragment[] = [];
  let basicOffsetTable: number[] = [];
  let pos = pixel.valueOffset;
  let first = true;
  for (let n = 0; ; n++) {
    if (n % 4096 === 0) throwIfAborted(signal);
    const h = await reader.read8(pos);
    if (!h) throw new SlideError('TRUNCATED', `${name}: the encapsulated pixel data is cut short`);
    const dv = new DataView(h.buffer, h.byteOffset, 8);
    const group = dv.getUint16(0, true);
    const elem = dv.getUint16(2, true);
    const length = dv.getUint32(4, true);
    if (group !== 0xfffe || (elem !== ITEM && elem !== SEQ_DELIM)) {
      throw new SlideError('CORRUPT', `${name}: the encapsulated pixel data has an invalid item at byte ${pos}`);
    }
    if (elem === SEQ_DELIM) {
      const end = pos + 8;
      return { encapsulated: true, valueOffset: pixel.valueOffset, valueLength: end - pixel.valueOffset, end, fragments, basicOffsetTable };
    }
    if (length === 0xffffffff) throw new SlideError('CORRUPT', `${name}: a pixel data fragment has an undefined length`);
    const valueOffset = pos + 8;
    if (valueOffset + length > source.size) throw new SlideError('TRUNCATED', `${name}: the encapsulated pixel data is cut short`);
    if (first) {
      first = false;
      if (length % 4 !== 0) throw new SlideError('CORRUPT', `${name}: the Basic Offset Table has an invalid length`);
      if (length > 0) {
        const bot = await source.read(valueOffset, length, signal);
        const bdv = new DataView(bot.buffer, bot.byteOffset, bot.byteLength);
        basicOffsetTable = Array.from({ length: length / 4 }, (_, i) => bdv.getUint32(i * 4, true));
      }
    } else {
      const lead = length >= 2 ? reader.peek16(valueOffset) : undefined;
      fragments.push(lead === undefined ? { offset: valueOffset, length } : { offset: valueOffset, length, lead });
    }
    pos = valueOffset + length;
  }
}
