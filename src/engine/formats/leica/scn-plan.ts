import { SlideError } from '../../../shared/errors.ts';
import type { Patch, RedactionPlan } from '../../redact/plan-types.ts';
import { Tag, TYPE_ASCII } from '../../tiff/tags.ts';
import { latin1Bytes, setU64, u64, view, type Ifd, type TiffFile } from '../../tiff/tifflike.ts';

/**
 * The Leica-specific half of a plan. OpenSlide reads the XML from the FIRST directory and finds
 * levels by directory NUMBER; Leica writes the macro first (IFD 0 holds the XML) and the main
 * image after it. The generic plan unlinks removed directories, so once the macro is gone the
 * XML would vanish with IFD 0 and every number would be off. This step takes the generic plan
 * and (1) writes the rebuilt XML (macro image cut out, numbers renumbered) into blank space, or
 * over its old extent when that stays; (2) gives the new first directory an ImageDescription
 * entry — its block is re-written one entry longer into blank space, the old block blanked and
 * the header pointed at it. Tile data still never moves; the output-alone verification re-maps
 * the result from its own bytes.
 */
export function placeScnXml(tiff: TiffFile, base: RedactionPlan, first: Ifd, xml: string): RedactionPlan {
  const out = base.outputs[0]!;
  const blockPatch = [...out.patches].reverse().find((p): p is { offset: number; bytes: Uint8Array } => 'bytes' in p && p.offset === first.offset && p.bytes.length === first.byteLength);
  if (!blockPatch) throw new SlideError('INTERNAL', 'the plan does not rewrite the first kept directory');
  const value = latin1Bytes(`${xml}\0`);
  const free = freeRanges(out.patches);
  const patches: Patch[] = [];

  // Where the XML goes: over the first directory's own description extent if it has one, else blank space.
  const oldDesc = tiff.entry(first, Tag.ImageDescription);
  let xmlOffset: number;
  if (oldDesc && !oldDesc.inline && oldDesc.byteLength >= value.length) {
    xmlOffset = oldDesc.valueOffset;
    const bytes = new Uint8Array(oldDesc.byteLength);
    bytes.set(value);
    patches.push({ offset: xmlOffset, bytes });
  } else {
    xmlOffset = take(free, value.length);
    patches.push({ offset: xmlOffset, bytes: value });
  }

  const entries = readBlock(tiff, blockPatch.bytes);
  const desc = entries.entries.find((e) => e.tag === Tag.ImageDescription);
  const field = tiff.encodeOffset(xmlOffset);
  if (desc) {
    desc.type = TYPE_ASCII;
    desc.count = value.length;
    desc.field = field;
  } else {
    entries.entries.push({ tag: Tag.ImageDescription, type: TYPE_ASCII, count: value.length, field });
    entries.entries.sort((a, b) => a.tag - b.tag);
  }
  const block = writeBlock(tiff, entries.entries, entries.next);
  if (block.length <= first.byteLength) {
    const bytes = new Uint8Array(first.byteLength);
    bytes.set(block);
    patches.push({ offset: first.offset, bytes });
  } else {
    const at = take(free, block.length);
    patches.push({ offset: first.offset, fill: 0, length: first.byteLength });
    patches.push({ offset: at, bytes: block });
    patches.push({ offset: tiff.firstIfdPointerOffset, bytes: tiff.encodeOffset(at) });
  }
  return { ...base, outputs: [{ ...out, patches: [...out.patches, ...patches] }, ...base.outputs.slice(1)] };
}

interface RawEntry {
  tag: number;
  type: number;
  count: number;
  /** The value/offset field as stored (4 or 8 bytes). */
  field: Uint8Array;
}

function readBlock(tiff: TiffFile, b: Uint8Array): { entries: RawEntry[]; next: Uint8Array } {
  const dv = view(b);
  const le = tiff.littleEndian;
  const n = tiff.bigTiff ? u64(dv, 0, le, 'entry count') : dv.getUint16(0, le);
  const entries: RawEntry[] = [];
  for (let i = 0; i < n; i++) {
    const p = tiff.countSize + i * tiff.entrySize;
    const count = tiff.bigTiff ? u64(dv, p + 4, le, 'count') : dv.getUint32(p + 4, le);
    const f = p + (tiff.bigTiff ? 12 : 8);
    entries.push({ tag: dv.getUint16(p, le), type: dv.getUint16(p + 2, le), count, field: b.slice(f, f + tiff.offsetSize) });
  }
  const np = tiff.countSize + n * tiff.entrySize;
  return { entries, next: b.slice(np, np + tiff.offsetSize) };
}

function writeBlock(tiff: TiffFile, entries: RawEntry[], next: Uint8Array): Uint8Array {
  const out = new Uint8Array(tiff.countSize + entries.length * tiff.entrySize + tiff.offsetSize);
  const dv = view(out);
  const le = tiff.littleEndian;
  out.set(tiff.encodeCount(entries.length), 0);
  let p = tiff.countSize;
  for (const e of entries) {
    dv.setUint16(p, e.tag, le);
    dv.setUint16(p + 2, e.type, le);
    if (tiff.bigTiff) setU64(dv, p + 4, e.count, le);
    else dv.setUint32(p + 4, e.count, le);
    out.set(e.field, p + (tiff.bigTiff ? 12 : 8));
    p += tiff.entrySize;
  }
  out.set(next, p);
  return out;
}

/** Blank space of the output: the plan's zero fills (the complement of everything it keeps). */
function freeRanges(patches: readonly Patch[]): { start: number; end: number }[] {
  return patches
    .filter((p): p is { offset: number; fill: number; length: number } => 'fill' in p && p.fill === 0)
    .map((p) => ({ start: p.offset, end: p.offset + p.length }))
    .sort((a, b) => a.start - b.start);
}

/** First fit, word-aligned (TIFF wants directories and values on even offsets; 8 suits BigTIFF). */
function take(free: { start: number; end: number }[], length: number): number {
  for (const r of free) {
    const at = Math.ceil(r.start / 8) * 8;
    if (at + length <= r.end) {
      r.start = at + length;
      return at;
    }
  }
  throw new SlideError('UNSUPPORTED', 'the Leica XML does not fit into the space the removed images leave');
}
