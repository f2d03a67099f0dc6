import { latin1 } from '../../shared/bytes.ts';
import { StreamKind, type CodestreamList } from '../codecs/segment-scrubber.ts';
import type { ByteSource } from '../io/byte-source.ts';
import type { Range } from '../redact/ranges.ts';
import type { HierRecord, NonHierRecord } from './index-file.ts';
import type { MiraxLayout } from './layout.ts';

/**
 * A Data file starts with a fixed 296-byte header: "01.01", the slide id, the file's number in
 * four digits, then '0' characters. Nothing reads it (OpenSlide seeks straight to the records);
 * it is kept only when it is exactly that — rewritten with the output's slide id — and zeroed
 * otherwise. Records start after it.
 */
export const DATA_HEADER_SIZE = 296;
const DATA_VERSION = '01.01';

export interface DataHeader {
  length: number;
  rewrite(slideId: string): Uint8Array;
}

export async function dataHeader(part: ByteSource, slideId: string, signal?: AbortSignal): Promise<DataHeader | undefined> {
  if (part.size < DATA_HEADER_SIZE) return undefined;
  const text = latin1(await part.read(0, DATA_HEADER_SIZE, signal));
  const head = DATA_VERSION + slideId;
  if (!text.startsWith(head)) return undefined;
  const rest = text.slice(head.length);
  if (!/^\d{4}0*$/.test(rest)) return undefined;
  const number = rest.slice(0, 4);
  return {
    length: DATA_HEADER_SIZE,
    rewrite: (id) => new TextEncoder().encode((DATA_VERSION + id + number).padEnd(DATA_HEADER_SIZE, '0')),
  };
}

/** Per Data file: the kept JPEG images (zoom levels) and other kept data (the position buffer). */
export function keptDataRanges(layout: MiraxLayout, hier: (HierRecord | null)[], nonhier: (NonHierRecord | null)[]): Map<number, { images: Range[]; other: Range[] }> {
  const out = new Map<number, { images: Range[]; other: Range[] }>();
  const at = (f: number) => {
    let e = out.get(f);
    if (!e) out.set(f, (e = { images: [], other: [] }));
    return e;
  };
  for (let level = 0; level < layout.levels.length; level++) {
    for (const it of hier[level]?.items ?? []) at(it.fileno).images.push({ start: it.offset, end: it.offset + it.length });
  }
  if (layout.position) {
    const rec = nonhier[layout.position.record];
    if (rec) at(rec.item.fileno).other.push({ start: rec.item.offset, end: rec.item.offset + rec.item.length });
  }
  return out;
}

/** The kept JPEG images of a Data file as a codestream list (their text segments are blanked / checked). */
export function codestreams(images: Range[]): CodestreamList {
  const sorted = [...images].filter((r) => r.end > r.start).sort((a, b) => a.start - b.start);
  const out: CodestreamList = { starts: [], lengths: [], kinds: [] };
  for (const r of sorted) {
    if (out.starts[out.starts.length - 1] === r.start) continue;
    out.starts.push(r.start);
    out.lengths.push(r.end - r.start);
    out.kinds.push(StreamKind.Jpeg);
  }
  return out;
}
