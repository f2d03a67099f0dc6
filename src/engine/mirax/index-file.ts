import { SlideError } from '../../shared/errors.ts';
import { latin1 } from '../../shared/bytes.ts';

/**
 * Index.dat, the record index of a MIRAX slide (little-endian int32 throughout):
 *
 *   "01.02" + SLIDE_ID                       version and the slide's id (must match Slidedat.ini)
 *   int32 hier root  → table of int32, one per hierarchical record (zoom levels first)
 *   int32 nonhier root → table of int32, one per non-hierarchical record
 *   record (table entry ≠ 0) → int32 0, int32 first data page
 *   data page → int32 item count, int32 next page (0 = last), items
 *     hierarchical item: int32 image index (y·IMAGENUMBER_X + x), offset, length, Data file number
 *     non-hierarchical item: int32 ×2 (zero; OpenSlide tolerates anything in the page's "next"),
 *       int32 offset, length, Data file number
 *
 * A table entry of 0 is a record with no data (MIRAX writes that for unused slots). Every pointer
 * is checked against the file; page chains may not loop.
 */

export const INDEX_VERSION = '01.02';
export const HIER_ITEM = 16;
export const NONHIER_ITEM = 20;
export const PAGE_HEADER = 8;

export interface DataRef {
  offset: number;
  length: number;
  fileno: number;
}

export interface HierItem extends DataRef {
  imageIndex: number;
}

export interface Page {
  offset: number;
  count: number;
  next: number;
}

export interface HierRecord {
  head: number;
  pages: Page[];
  items: HierItem[];
}

export interface NonHierRecord {
  head: number;
  page: Page;
  /** The item OpenSlide reads (the page's first). */
  item: DataRef;
}

export interface MiraxIndex {
  size: number;
  /** Offset of the hier root pointer (right after version and id). */
  rootOffset: number;
  hierTable: number;
  nonhierTable: number;
  hierCount: number;
  nonhierCount: number;
  /** Table entries as read (0 = empty record). */
  hierEntries: number[];
  nonhierEntries: number[];
}

const corrupt = (what: string): SlideError => new SlideError('CORRUPT', `Index.dat: ${what}`);

export class IndexReader {
  private readonly view: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  i32(offset: number, what: string): number {
    if (!(offset >= 0 && offset + 4 <= this.bytes.length)) throw corrupt(`${what} lies outside the file`);
    return this.view.getInt32(offset, true);
  }

  /** A pointer: a non-negative offset with at least `need` bytes after it. */
  ptr(offset: number, need: number, what: string): number {
    const p = this.i32(offset, what);
    if (p < 0 || p + need > this.bytes.length) throw corrupt(`${what} points outside the file`);
    return p;
  }
}

export function readIndexHeader(bytes: Uint8Array, slideId: string, hierCount: number, nonhierCount: number): { index: MiraxIndex; reader: IndexReader } {
  const r = new IndexReader(bytes);
  const idLen = slideId.length;
  if (bytes.length < INDEX_VERSION.length + idLen + 8) throw new SlideError('TRUNCATED', 'Index.dat ends inside its header');
  if (latin1(bytes.subarray(0, INDEX_VERSION.length)) !== INDEX_VERSION) throw new SlideError('UNSUPPORTED', 'Index.dat has a version other than 01.02');
  if (latin1(bytes.subarray(INDEX_VERSION.length, INDEX_VERSION.length + idLen)) !== slideId) throw corrupt('its slide id does not match Slidedat.ini');
  const rootOffset = INDEX_VERSION.length + idLen;
  const hierTable = r.ptr(rootOffset, 4 * hierCount, 'the hierarchical root');
  const nonhierTable = r.ptr(rootOffset + 4, 4 * nonhierCount, 'the non-hierarchical root');
  const hierEntries: number[] = [];
  for (let i = 0; i < hierCount; i++) hierEntries.push(r.i32(hierTable + 4 * i, 'a record pointer'));
  const nonhierEntries: number[] = [];
  for (let i = 0; i < nonhierCount; i++) nonhierEntries.push(r.i32(nonhierTable + 4 * i, 'a record pointer'));
  return { index: { size: bytes.length, rootOffset, hierTable, nonhierTable, hierCount, nonhierCount, hierEntries, nonhierEntries }, reader: r };
}

function recordHead(r: IndexReader, entry: number, what: string): number {
  if (entry < 0 || entry + 8 > r.bytes.length) throw corrupt(`the ${what} record pointer points outside the file`);
  if (r.i32(entry, what) !== 0) throw corrupt(`the ${what} record does not start with 0`);
  return entry;
}

/** A hierarchical record's items, page by page; null for an empty record. */
export function readHierRecord(r: IndexReader, entry: number, what: string): HierRecord | null {
  if (entry === 0) return null;
  const head = recordHead(r, entry, what);
  let page = r.ptr(head + 4, PAGE_HEADER, `the first page of the ${what} record`);
  const pages: Page[] = [];
  const items: HierItem[] = [];
  const seen = new Set<number>();
  for (;;) {
    if (seen.has(page)) throw corrupt(`the pages of the ${what} record loop`);
    seen.add(page);
    const count = r.i32(page, what);
    const next = r.i32(page + 4, what);
    if (count < 0 || page + PAGE_HEADER + count * HIER_ITEM > r.bytes.length) throw corrupt(`a page of the ${what} record runs past the end of the file`);
    pages.push({ offset: page, count, next });
    for (let i = 0; i < count; i++) {
      const o = page + PAGE_HEADER + i * HIER_ITEM;
      const item = { imageIndex: r.i32(o, what), offset: r.i32(o + 4, what), length: r.i32(o + 8, what), fileno: r.i32(o + 12, what) };
      if (item.imageIndex < 0 || item.offset < 0 || item.length < 0 || item.fileno < 0) throw corrupt(`the ${what} record has a negative entry`);
      items.push(item);
    }
    if (next === 0) break;
    if (next < 0 || next + PAGE_HEADER > r.bytes.length) throw corrupt(`a page of the ${what} record points outside the file`);
    page = next;
  }
  return { head, pages, items };
}

/** A non-hierarchical record (its first item, as OpenSlide reads it); null for an empty record. */
export function readNonHierRecord(r: IndexReader, entry: number, what: string): NonHierRecord | null {
  if (entry === 0) return null;
  const head = recordHead(r, entry, what);
  const page = r.ptr(head + 4, PAGE_HEADER + NONHIER_ITEM, `the data page of the ${what} record`);
  const count = r.i32(page, what);
  if (count < 1) throw corrupt(`the ${what} record has no data item`);
  const o = page + PAGE_HEADER;
  if (r.i32(o, what) !== 0 || r.i32(o + 4, what) !== 0) throw corrupt(`the ${what} record's item does not start with two zeros`);
  const item = { offset: r.i32(o + 8, what), length: r.i32(o + 12, what), fileno: r.i32(o + 16, what) };
  if (item.offset < 0 || item.length < 0 || item.fileno < 0) throw corrupt(`the ${what} record has a negative entry`);
  return { head, page: { offset: page, count, next: r.i32(page + 4, what) }, item };
}

const le = (v: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, v, true);
  return b;
};

/**
 * Index.dat rebuilt by allowlist: the input's size, all zero, then only the header (version and
 * the output's slide id), both roots, both tables (kept records only; others 0) and the kept
 * records' heads and pages at their input offsets. Nothing moves, so kept pointers stay valid.
 */
export function writeIndex(index: MiraxIndex, slideId: string, hier: (HierRecord | null)[], nonhier: (NonHierRecord | null)[]): Uint8Array {
  const out = new Uint8Array(index.size);
  const put = (offset: number, v: number): void => out.set(le(v), offset);
  out.set(new TextEncoder().encode(INDEX_VERSION + slideId), 0);
  put(index.rootOffset, index.hierTable);
  put(index.rootOffset + 4, index.nonhierTable);
  hier.forEach((rec, i) => {
    if (!rec) return;
    put(index.hierTable + 4 * i, rec.head);
    put(rec.head + 4, rec.pages[0]!.offset);
    let k = 0;
    for (const p of rec.pages) {
      put(p.offset, p.count);
      put(p.offset + 4, p.next);
      for (let i2 = 0; i2 < p.count; i2++, k++) {
        const it = rec.items[k]!;
        const o = p.offset + PAGE_HEADER + i2 * HIER_ITEM;
        put(o, it.imageIndex);
        put(o + 4, it.offset);
        put(o + 8, it.length);
        put(o + 12, it.fileno);
      }
    }
  });
  nonhier.forEach((rec, i) => {
    if (!rec) return;
    put(index.nonhierTable + 4 * i, rec.head);
    put(rec.head + 4, rec.page.offset);
    // One item, no next page: exactly what OpenSlide 3.4.1 accepts (it wants a count of 1).
    put(rec.page.offset, 1);
    put(rec.page.offset + 8 + 8, rec.item.offset);
    put(rec.page.offset + 8 + 12, rec.item.length);
    put(rec.page.offset + 8 + 16, rec.item.fileno);
  });
  return out;
}

/** The byte ranges of Index.dat that the kept structure occupies (for the output-alone check). */
export function indexStructure(index: MiraxIndex, hier: (HierRecord | null)[], nonhier: (NonHierRecord | null)[]): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [{ start: 0, end: index.rootOffset + 8 }];
  out.push({ start: index.hierTable, end: index.hierTable + 4 * index.hierCount });
  out.push({ start: index.nonhierTable, end: index.nonhierTable + 4 * index.nonhierCount });
  for (const rec of hier) {
    if (!rec) continue;
    out.push({ start: rec.head, end: rec.head + 8 });
    for (const p of rec.pages) out.push({ start: p.offset, end: p.offset + PAGE_HEADER + p.count * HIER_ITEM });
  }
  for (const rec of nonhier) {
    if (!rec) continue;
    out.push({ start: rec.head, end: rec.head + 8 });
    out.push({ start: rec.page.offset, end: rec.page.offset + PAGE_HEADER + NONHIER_ITEM });
  }
  return out;
}
