import { SlideError, throwIfAborted } from '../../shared/errors.ts';
import type { ImageRole } from '../formats/slide-format.ts';
import type { Patch, RedactionPlan, RedactionRequest } from '../redact/plan-types.ts';
import { buildAperioDescription, parseAperioDescription } from './aperio-description.ts';
import { sameBytes, tagSweepValues, type TiffField } from './fields.ts';
import { dataExtents, type TiffImageInfo } from './image-info.ts';
import { Tag, TYPE_ASCII } from './tags.ts';
import { latin1, latin1Bytes, view, setU64, type Ifd, type TiffEntry, type TiffFile } from './tifflike.ts';

export interface TiffPlanImage {
  id: string;
  role: ImageRole;
  info: TiffImageInfo;
}

interface Range {
  start: number;
  end: number;
}

/** Blobs bigger than this are not read back for the sweep (they are still zero-filled). */
const MAX_SWEEP_VALUE_READ = 4 * 1024 * 1024;

/**
 * Build the byte edits for a TIFF/SVS redaction. Nothing moves: the output has the input's size and
 * every kept tile at the same offset; edits are
 *  - whole IFD blocks re-serialised in place (entries removed, counts and next pointers changed,
 *    freed tail zeroed),
 *  - values of removed tags zero-filled over their whole old extent,
 *  - Aperio descriptions rebuilt from their kept parts, written over the old extent, rest zeroed,
 *  - removed images (label, macro): IFD unlinked from the chain, IFD block, tag values and every
 *    strip/tile zero-filled.
 * Bytes still referenced by something kept (e.g. a JPEGTables value two IFDs share) are not zeroed.
 */
export async function planTiffRedaction(
  tiff: TiffFile,
  outputName: string,
  fields: TiffField[],
  images: TiffPlanImage[],
  request: RedactionRequest,
  signal?: AbortSignal,
): Promise<RedactionPlan> {
  const removedFields = fields.filter((f) => request.removeFields.includes(f.id));
  for (const f of removedFields) {
    if (f.class === 'critical') throw new SlideError('BAD_REQUEST', `"${f.label}" is needed to read the slide and cannot be removed`);
  }
  const removedImages: TiffPlanImage[] = [];
  for (const id of request.removeImages) {
    const img = images.find((i) => i.id === id);
    if (!img) throw new SlideError('BAD_REQUEST', `the slide has no image "${id}"`);
    if (img.role === 'level') throw new SlideError('BAD_REQUEST', 'pyramid levels cannot be removed');
    removedImages.push(img);
  }
  const removedIfds = new Set<Ifd>(removedImages.map((i) => i.info.ifd));
  // Child IFDs carry their main IFD's index, so this covers whole removed trees.
  const isRemovedTree = (ifd: Ifd) => removedIfds.has(tiff.ifds[ifd.index]!);

  // What to take out of each kept IFD.
  const dropEntries = new Map<Ifd, Set<TiffEntry>>();
  const dropPairs = new Map<Ifd, Set<number>>();
  const dropSegments = new Map<Ifd, Set<number>>();
  const add = <T>(m: Map<Ifd, Set<T>>, ifd: Ifd, v: T) => {
    let s = m.get(ifd);
    if (!s) m.set(ifd, (s = new Set()));
    s.add(v);
  };
  const sweep: Uint8Array[] = [];
  for (const f of removedFields) {
    for (const occ of f.occurrences) {
      if (isRemovedTree(occ.ifd)) continue;
      if (occ.kind === 'tag') add(dropEntries, occ.ifd, occ.entry);
      else if (occ.kind === 'aperio-pair') add(dropPairs, occ.ifd, occ.pairIndex);
      else add(dropSegments, occ.ifd, occ.segmentIndex);
      if (occ.kind === 'tag' && !occ.entry.value && occ.entry.byteLength <= MAX_SWEEP_VALUE_READ) {
        sweep.push(...tagSweepValues(occ.entry, await tiff.bytes(occ.entry, signal)));
      }
    }
    sweep.push(...f.values);
  }

  const zero: Range[] = [];
  const keep: Range[] = [];
  const zeroValue = (e: TiffEntry) => {
    if (!e.inline && e.byteLength > 0) zero.push({ start: e.valueOffset, end: e.valueOffset + e.byteLength });
  };
  const zeroIfdTree = (ifd: Ifd) => {
    zero.push({ start: ifd.offset, end: ifd.offset + ifd.byteLength });
    for (const e of ifd.entries) zeroValue(e);
    for (const c of ifd.children) zeroIfdTree(c.ifd);
  };
  for (const img of removedImages) {
    zeroIfdTree(img.info.ifd);
    for await (const x of dataExtents(tiff, img.info, signal)) zero.push({ start: x.offset, end: x.offset + x.length });
  }

  // Kept main IFDs, relinked: each points to the next kept one.
  const keptMain = tiff.ifds.filter((ifd) => !removedIfds.has(ifd));
  if (keptMain.length === 0) throw new SlideError('BAD_REQUEST', 'the request would remove every image');
  const newNext = new Map<Ifd, number>();
  keptMain.forEach((ifd, i) => newNext.set(ifd, keptMain[i + 1]?.offset ?? 0));

  const rewrites: Patch[] = [];
  if (keptMain[0]!.offset !== tiff.ifds[0]!.offset) {
    rewrites.push({ offset: tiff.firstIfdPointerOffset, bytes: tiff.encodeOffset(keptMain[0]!.offset) });
  }
  const keptText: string[] = [];
  const visitKept = (ifd: Ifd) => {
    throwIfAborted(signal);
    const drops = dropEntries.get(ifd) ?? new Set<TiffEntry>();
    keep.push({ start: ifd.offset, end: ifd.offset + ifd.byteLength });
    let newDescription: Uint8Array | undefined;
    const descEntry = tiff.entry(ifd, Tag.ImageDescription);
    if (descEntry && !drops.has(descEntry) && (dropPairs.has(ifd) || dropSegments.has(ifd))) {
      const d = parseAperioDescription(tiff.ascii(ifd, Tag.ImageDescription) ?? '');
      const segs = dropSegments.get(ifd) ?? new Set<number>();
      const pairs = dropPairs.get(ifd) ?? new Set<number>();
      const text = buildAperioDescription(d, (i) => !segs.has(i), (i) => !pairs.has(i));
      newDescription = latin1Bytes(text + '\0');
      if (newDescription.length > descEntry.byteLength) throw new SlideError('INTERNAL', 'rebuilt description is longer than the original');
    }
    for (const e of ifd.entries) {
      if (drops.has(e)) {
        zeroValue(e);
        for (const c of ifd.children) if (c.tag === e.tag) zeroIfdTree(c.ifd);
        continue;
      }
      if (e === descEntry && newDescription) {
        keptText.push(latin1(newDescription));
        if (!e.inline) {
          keep.push({ start: e.valueOffset, end: e.valueOffset + e.byteLength });
          // A value short enough moves inline (TIFF requires it) and the old extent is all zeros.
          const bytes = new Uint8Array(e.byteLength);
          if (newDescription.length > tiff.offsetSize) bytes.set(newDescription);
          rewrites.push({ offset: e.valueOffset, bytes });
        }
        continue;
      }
      if (!e.inline) keep.push({ start: e.valueOffset, end: e.valueOffset + e.byteLength });
      if (e.type === TYPE_ASCII && e.value) keptText.push(latin1(e.value));
    }
    const next = ifd.kind === 'main' ? newNext.get(ifd)! : ifd.nextOffset;
    if (drops.size > 0 || newDescription || next !== ifd.nextOffset) {
      rewrites.push({ offset: ifd.offset, bytes: serializeIfd(tiff, ifd, drops, descEntry, newDescription, next) });
    }
    for (const c of ifd.children) {
      if (!drops.has(tiff.entry(ifd, c.tag)!)) visitKept(c.ifd);
    }
  };
  for (const ifd of keptMain) visitKept(ifd);

  const zeroPatches: Patch[] = subtract(merge(zero), merge(keep)).map((r) => ({ offset: r.start, fill: 0, length: r.end - r.start }));
  const sweepValues = dedupe(sweep).filter((v) => !keptText.some((t) => t.includes(latin1(v))));
  return {
    outputs: [{
      name: outputName,
      size: tiff.size,
      segments: [{ kind: 'copy', part: 0, offset: 0, length: tiff.size }],
      // Zero fills first so the rewrites (which lie in kept ranges) are applied over them.
      patches: [...zeroPatches, ...rewrites],
    }],
    removedFields: removedFields.map((f) => f.id),
    removedImages: removedImages.map((i) => ({ id: i.id, role: i.role })),
    sweepValues,
  };
}

/** The IFD block re-encoded at its old size: kept entries in order, new next pointer, zero tail. */
function serializeIfd(tiff: TiffFile, ifd: Ifd, drops: Set<TiffEntry>, descEntry: TiffEntry | undefined, newDescription: Uint8Array | undefined, next: number): Uint8Array {
  const out = new Uint8Array(ifd.byteLength);
  const dv = view(out);
  const le = tiff.littleEndian;
  const kept = ifd.entries.filter((e) => !drops.has(e));
  out.set(tiff.encodeCount(kept.length), 0);
  let p = tiff.countSize;
  for (const e of kept) {
    dv.setUint16(p, e.tag, le);
    dv.setUint16(p + 2, e.type, le);
    const desc = e === descEntry && newDescription !== undefined;
    const count = desc ? newDescription!.length : e.count;
    if (tiff.bigTiff) setU64(dv, p + 4, count, le);
    else dv.setUint32(p + 4, count, le);
    const field = p + (tiff.bigTiff ? 12 : 8);
    if (desc && newDescription!.length <= tiff.offsetSize) out.set(newDescription!, field);
    else if (e.inline) out.set(e.value!, field);
    else out.set(tiff.encodeOffset(e.valueOffset), field);
    p += tiff.entrySize;
  }
  out.set(tiff.encodeOffset(next), p);
  return out;
}

function merge(ranges: Range[]): Range[] {
  const sorted = ranges.filter((r) => r.end > r.start).sort((a, b) => a.start - b.start);
  const out: Range[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.start <= last.end) last.end = Math.max(last.end, r.end);
    else out.push({ ...r });
  }
  return out;
}

/** a minus b, both merged and sorted. */
function subtract(a: Range[], b: Range[]): Range[] {
  const out: Range[] = [];
  let j = 0;
  for (const r of a) {
    let start = r.start;
    while (j < b.length && b[j]!.end <= start) j++;
    let k = j;
    while (k < b.length && b[k]!.start < r.end) {
      if (b[k]!.start > start) out.push({ start, end: b[k]!.start });
      start = Math.max(start, b[k]!.end);
      k++;
    }
    if (start < r.end) out.push({ start, end: r.end });
  }
  return out;
}

function dedupe(values: Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const v of values) if (v.length > 0 && !out.some((x) => sameBytes(x, v))) out.push(v);
  return out;
}
