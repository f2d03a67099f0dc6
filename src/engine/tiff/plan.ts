import { uniqueBytes } from '../../shared/bytes.ts';
import { SlideError, throwIfAborted } from '../../shared/errors.ts';
import type { ImageRole } from '../formats/slide-format.ts';
import type { Patch, RedactionPlan, RedactionRequest } from '../redact/plan-types.ts';
import { complement, type Range } from '../redact/ranges.ts';
import { checkOverlaps, orphanedText, unionOf } from './plan-safety.ts';
import { buildAperioDescription, parseAperioDescription } from './aperio-description.ts';
import { tagSweepValues, type TiffField } from './fields.ts';
import type { TiffImageInfo } from './image-info.ts';
import { StructureMap } from './structure-map.ts';
import { isChildPointer, tagPolicy } from './tag-policy.ts';
import { Tag, tagName, TYPE_ASCII } from './tags.ts';
import { latin1, latin1Bytes, view, setU64, type Ifd, type TiffEntry, type TiffFile } from './tifflike.ts';

export interface TiffPlanImage {
  id: string;
  role: ImageRole;
  info: TiffImageInfo;
}

/** Blobs bigger than this are not read back for the sweep (they are still zero-filled). */
const MAX_SWEEP_VALUE_READ = 4 * 1024 * 1024;

/** What to take out of one kept IFD. */
interface IfdDrops {
  entries: Set<TiffEntry>;
  pairs: Set<number>;
  segments: Set<number>;
}

/**
 * Build the byte edits for a TIFF/SVS redaction, by allowlist. The output starts from an empty
 * map: the header, the IFDs of kept images, the values of their kept tags, the strips/tiles of
 * kept images (JPEGTables included) and the directories the user chose to keep. Every other byte
 * of the input — removed values and images, IFDs unlinked by other tools, descriptions orphaned by
 * in-place editors, gaps, padding, trailing bytes — is zero-filled in place. Nothing moves: the
 * output has the input's size and every kept tile at the same offset, so applying the plan stays
 * one sequential copy with patches. Kept IFDs are re-serialised in place (dropped entries out,
 * next pointers relinked); an Aperio description is rebuilt from its kept parts over its old
 * extent. Text segments inside kept JPEG/JPEG 2000 codestreams are blanked while streaming
 * (`codestreams`). Structures that overlap so that one cannot be kept without the other's
 * removed bytes are refused, never guessed at.
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
  // Only the images the review showed are kept: a main IFD that holds no reviewed image is dropped.
  const keptMain = images.filter((i) => !removedIfds.has(i.info.ifd)).map((i) => i.info.ifd).sort((a, b) => a.index - b.index);
  if (keptMain.length === 0) throw new SlideError('BAD_REQUEST', 'the request would remove every image');
  const kept = new Set(keptMain);

  const drops = new Map<Ifd, IfdDrops>();
  const dropsOf = (ifd: Ifd): IfdDrops => {
    let d = drops.get(ifd);
    if (!d) drops.set(ifd, (d = { entries: new Set(), pairs: new Set(), segments: new Set() }));
    return d;
  };
  const sweep: Uint8Array[] = [];
  for (const f of removedFields) {
    for (const occ of f.occurrences) {
      if (occ.kind === 'tag' && !occ.entry.value && occ.entry.byteLength <= MAX_SWEEP_VALUE_READ) {
        sweep.push(...tagSweepValues(occ.entry, await tiff.bytes(occ.entry, signal)));
      }
      if (!kept.has(occ.ifd)) continue;
      if (occ.kind === 'tag') dropsOf(occ.ifd).entries.add(occ.entry);
      else if (occ.kind === 'aperio-pair') dropsOf(occ.ifd).pairs.add(occ.pairIndex);
      else dropsOf(occ.ifd).segments.add(occ.segmentIndex);
    }
    sweep.push(...f.values);
  }

  // What stays (the map), what is rewritten in place, and what the removal erased (for the
  // overlap check: an erased byte that is also kept would survive).
  const map = new StructureMap(tiff);
  const erased = new StructureMap(tiff, false);
  const rewrites: { range: Range; patch: Patch }[] = [];
  /** The text the output keeps on purpose (kept ASCII values, rebuilt descriptions). */
  const keptText: string[] = [];
  for (const ifd of tiff.ifds) if (!kept.has(ifd)) await erased.addTree(ifd, signal);

  const first = keptMain[0]!;
  const headerPatch = first.offset !== tiff.ifds[0]!.offset ? [{ offset: tiff.firstIfdPointerOffset, bytes: tiff.encodeOffset(first.offset) }] : [];
  const state: KeepState = { tiff, map, erased, rewrites, keptText };
  for (const [i, ifd] of keptMain.entries()) {
    throwIfAborted(signal);
    await keepIfd(state, ifd, drops.get(ifd) ?? { entries: new Set(), pairs: new Set(), segments: new Set() }, keptMain[i + 1]?.offset ?? 0, signal);
  }
  const keep = map.ranges.merged();
  const gone = erased.ranges.merged();
  checkOverlaps(gone, keep, rewrites.map((r) => r.range), map.data.merged());
  const orphaned = await orphanedText(tiff, complement(unionOf(keep, gone), tiff.size), keptText, signal);

  const zeroPatches: Patch[] = complement(keep, tiff.size).map((r) => ({ offset: r.start, fill: 0, length: r.end - r.start }));
  return {
    outputs: [{
      name: outputName,
      size: tiff.size,
      segments: [{ kind: 'copy', part: 0, offset: 0, length: tiff.size }],
      // Zero fills first so the rewrites (which lie in kept ranges) are applied over them.
      patches: [...zeroPatches, ...headerPatch, ...rewrites.map((r) => r.patch)],
      codestreams: map.codestreams(),
    }],
    removedFields: removedFields.map((f) => f.id),
    removedImages: removedImages.map((i) => ({ id: i.id, role: i.role })),
    // Every removed value, also when it occurs inside something kept: such a hit is a finding.
    sweepValues: uniqueBytes(sweep),
    sweepExact: orphaned,
  };
}

interface KeepState {
  tiff: TiffFile;
  map: StructureMap;
  erased: StructureMap;
  rewrites: { range: Range; patch: Patch }[];
  keptText: string[];
}

/**
 * One kept main IFD: its block (re-serialised without the dropped entries, pointing to `next`),
 * its kept values (an Aperio description rebuilt over its old extent), its image data, and the
 * child directories the user kept; dropped values and directories go to `erased`.
 */
async function keepIfd(s: KeepState, ifd: Ifd, d: IfdDrops, next: number, signal?: AbortSignal): Promise<void> {
  const { tiff, map, erased } = s;
  const desc = tiff.entry(ifd, Tag.ImageDescription);
  const newDescription = desc && !d.entries.has(desc) ? rebuiltDescription(tiff, ifd, desc, d) : undefined;
  map.addBlock(ifd);
  for (const e of ifd.entries) {
    if (d.entries.has(e)) {
      erased.addValue(e);
      if (isChildPointer(e.tag)) for (const c of ifd.children) if (c.tag === e.tag) await erased.addTree(c.ifd, signal);
      continue;
    }
    const policy = tagPolicy(e);
    if (policy.kind === 'unaccountable') {
      throw new SlideError('UNSUPPORTED', `IFD ${ifd.index} uses ${policy.reason} (${tagName(e.tag)}), which cannot be de-identified safely; remove that image`);
    }
    if (e === desc && newDescription && !e.inline) {
      // A value short enough moves inline (TIFF requires it) and the old extent is all zeros.
      const bytes = new Uint8Array(e.byteLength);
      if (newDescription.length > tiff.offsetSize) bytes.set(newDescription);
      // Kept, but rewritten: not "data" that a rewrite must leave alone.
      map.ranges.add(e.valueOffset, e.valueOffset + e.byteLength);
      s.rewrites.push({ range: { start: e.valueOffset, end: e.valueOffset + e.byteLength }, patch: { offset: e.valueOffset, bytes } });
    } else map.addValue(e);
    if (e.type === TYPE_ASCII) s.keptText.push(e === desc && newDescription ? latin1(newDescription) : e.value ? latin1(e.value) : '');
    if (isChildPointer(e.tag)) {
      // The user kept this directory: it stays whole, data and all.
      for (const c of ifd.children) if (c.tag === e.tag) await map.addTree(c.ifd, signal);
    }
  }
  await map.addImageData(ifd, signal);
  s.rewrites.push({ range: { start: ifd.offset, end: ifd.offset + ifd.byteLength }, patch: { offset: ifd.offset, bytes: serializeIfd(tiff, ifd, d.entries, desc, newDescription, next) } });
}

/** The Aperio description without its dropped pairs and header segments (NUL-terminated), if any are dropped. */
function rebuiltDescription(tiff: TiffFile, ifd: Ifd, desc: TiffEntry, d: IfdDrops): Uint8Array | undefined {
  if (d.pairs.size === 0 && d.segments.size === 0) return undefined;
  const parsed = parseAperioDescription(tiff.ascii(ifd, Tag.ImageDescription) ?? '');
  const text = latin1Bytes(buildAperioDescription(parsed, (k) => !d.segments.has(k), (k) => !d.pairs.has(k)) + '\0');
  if (text.length > desc.byteLength) throw new SlideError('INTERNAL', 'rebuilt description is longer than the original');
  return text;
}

/** The IFD block re-encoded at its old size: kept entries in order, new next pointer, zero tail. */
function serializeIfd(tiff: TiffFile, ifd: Ifd, drops: Set<TiffEntry>, descEntry: TiffEntry | undefined, newDescription: Uint8Array | undefined, next: number): Uint8Array {
  const out = new Uint8Array(ifd.byteLength);
  const dv = view(out);
  const le = tiff.littleEndian;
  const keptEntries = ifd.entries.filter((e) => !drops.has(e));
  out.set(tiff.encodeCount(keptEntries.length), 0);
  let p = tiff.countSize;
  for (const e of keptEntries) {
    dv.setUint16(p, e.tag, le);
    dv.setUint16(p + 2, e.type, le);
    const isDesc = e === descEntry && newDescription !== undefined;
    const count = isDesc ? newDescription!.length : e.count;
    if (tiff.bigTiff) setU64(dv, p + 4, count, le);
    else dv.setUint32(p + 4, count, le);
    const field = p + (tiff.bigTiff ? 12 : 8);
    if (isDesc && newDescription!.length <= tiff.offsetSize) out.set(newDescription!, field);
    else if (e.inline) out.set(e.value!, field);
    else out.set(tiff.encodeOffset(e.valueOffset), field);
    p += tiff.entrySize;
  }
  out.set(tiff.encodeOffset(next), p);
  return out;
}
