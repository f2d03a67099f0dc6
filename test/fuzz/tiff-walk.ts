/**
 * A minimal TIFF/BigTIFF walker of our own (not the engine's): it only has to find IFDs, entries and
 * pointer fields so mutators can rewrite them. It never throws on garbage; it stops walking instead.
 */
export interface TiffEntry {
  /** Offset of the entry in the file (tag number first). */
  pos: number;
  tag: number;
  type: number;
  count: number;
  /** Where the value (or value offset) field of the entry is. */
  valueFieldPos: number;
  /** Where the value bytes are: inline (= valueFieldPos) or at the offset it holds. */
  valuePos: number;
  byteLength: number;
  inline: boolean;
}

export interface TiffIfd {
  pos: number;
  /** Position of the pointer that leads to this IFD (header field or previous next-pointer). */
  linkPos: number;
  entries: TiffEntry[];
  /** Position of this IFD's next-IFD pointer. */
  nextPos: number;
  next: number;
  /** Reached through a SubIFDs / EXIF / GPS pointer, not the main chain. */
  sub: boolean;
}

export interface TiffLayout {
  little: boolean;
  big: boolean;
  /** Bytes of an offset field (4 classic, 8 BigTIFF). */
  offSize: number;
  firstIfdPos: number;
  ifds: TiffIfd[];
}

const TYPE_SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8 };
/** Tags whose values are offsets of further IFDs (SubIFDs, EXIF, GPS, Interoperability). */
const SUB_IFD_TAGS = new Set([330, 34665, 34853, 40965]);

export function typeSize(type: number): number {
  return TYPE_SIZE[type] ?? 1;
}

export function walkTiff(b: Uint8Array): TiffLayout | undefined {
  if (b.length < 8) return undefined;
  const little = b[0] === 0x49 && b[1] === 0x49;
  if (!little && !(b[0] === 0x4d && b[1] === 0x4d)) return undefined;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const u16 = (p: number) => (p + 2 <= b.length ? dv.getUint16(p, little) : 0);
  const u32 = (p: number) => (p + 4 <= b.length ? dv.getUint32(p, little) : 0);
  const u64 = (p: number) => (p + 8 <= b.length ? Number(dv.getBigUint64(p, little)) : 0);
  const magic = u16(2);
  const big = magic === 43;
  if (magic !== 42 && !big) return undefined;
  const offSize = big ? 8 : 4;
  const off = (p: number) => (big ? u64(p) : u32(p));
  const firstIfdPos = big ? 8 : 4;
  const layout: TiffLayout = { little, big, offSize, firstIfdPos, ifds: [] };
  const seen = new Set<number>();
  const queue: { pos: number; linkPos: number; sub: boolean }[] = [{ pos: off(firstIfdPos), linkPos: firstIfdPos, sub: false }];
  while (queue.length > 0 && layout.ifds.length < 256) {
    const { pos, linkPos, sub } = queue.shift()!;
    if (pos === 0 || pos >= b.length || seen.has(pos)) continue;
    seen.add(pos);
    const n = big ? u64(pos) : u16(pos);
    const entrySize = big ? 20 : 12;
    const first = pos + (big ? 8 : 2);
    if (n === 0 || n > 4096 || first + n * entrySize > b.length) continue;
    const entries: TiffEntry[] = [];
    for (let i = 0; i < n; i++) {
      const e = first + i * entrySize;
      const type = u16(e + 2);
      const count = big ? u64(e + 4) : u32(e + 4);
      const valueFieldPos = e + (big ? 12 : 8);
      const byteLength = count * typeSize(type);
      const inline = byteLength <= offSize;
      const valuePos = inline ? valueFieldPos : off(valueFieldPos);
      const tag = u16(e);
      entries.push({ pos: e, tag, type, count, valueFieldPos, valuePos, byteLength, inline });
      if (SUB_IFD_TAGS.has(tag) && count > 0 && count <= 64) {
        for (let k = 0; k < count; k++) {
          const p = inline ? valueFieldPos + k * (type === 16 || type === 18 ? 8 : 4) : valuePos + k * (type === 16 || type === 18 ? 8 : 4);
          const target = type === 16 || type === 18 ? u64(p) : u32(p);
          queue.push({ pos: target, linkPos: p, sub: true });
        }
      }
    }
    const nextPos = first + n * entrySize;
    const next = off(nextPos);
    layout.ifds.push({ pos, linkPos, entries, nextPos, next, sub });
    queue.push({ pos: next, linkPos: nextPos, sub });
  }
  return layout;
}

/** Encode an offset/count field of the layout's width and byte order. */
export function encodeUint(value: number, size: number, little: boolean): Uint8Array {
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  if (size === 2) dv.setUint16(0, value & 0xffff, little);
  else if (size === 4) dv.setUint32(0, value >>> 0, little);
  else dv.setBigUint64(0, BigInt(Math.max(0, Math.floor(value))), little);
  return out;
}
