import { uniqueBytes } from '../../shared/bytes.ts';
import { SlideError, throwIfAborted } from '../../shared/errors.ts';
import type { ImageRole } from '../formats/slide-format.ts';
import type { Patch, RedactionPlan, RedactionRequest } from '../redact/plan-types.ts';
import { complement, type Range } from '../redact/ranges.ts';
import { checkOverlaps, orphanedText, unionOf } from './plan-safety.ts';
import { tagSweepValues, type TiffField } from './fields.ts';
import type { TiffImageInfo } from './image-info.ts';
import { StructureMap } from './structure-map.ts';
import { isChildPointer, tagPolicy } from './tag-policy.ts';
import { Tag, tagName, TYPE_ASCII, typeSize } from './tags.ts';
import { latin1, view, setU64, type Ifd, type TiffEntry, type TiffFile } from './tifflike.ts';
import type { StructuredText, TiffVendorProfile } from './vendor-profile.ts';

export interface TiffPlanImage {
  id: string;
  role: ImageRole;
  info: TiffImageInfo;
}

/** Blobs bigger than this are not read back for the sweep (they are still zero-filled). */
const MAX_SWEEP_VALUE_READ = 4 * 1024 * 1024;

/** What to take out of one kept IFD: whole entries, and parts of structured texts. */
interface IfdDrops {
  entries: Set<TiffEntry>;
  parts: Map<TiffEntry, { text: StructuredText; dropped: Set<number> }>;
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
 * extent (any vendor's structured text likewise). Text segments inside kept JPEG/JPEG 2000 codestreams are blanked while streaming
 * (`codestreams`). Structures that overlap so that one cannot be kept without the other's
 * removed bytes are refused, never guessed at.
 */
export async function planTiffRedaction(
  tiff: TiffFile,
  outputName: string,
  fields: TiffField[],
  images: TiffPlanImage[],
  request: RedactionRequest,
  profile?: TiffVendorProfile,
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
  // Images may also live in SubIFDs (OME-TIFF pyramid levels): `kept` holds every kept image
  // directory, `keptMain` only the main chain; kept SubIFD images are kept through their parent.
  const keptIfds = images.filter((i) => !removedIfds.has(i.info.ifd)).map((i) => i.info.ifd);
  const keptMain = keptIfds.filter((ifd) => ifd.kind === 'main').sort((a, b) => a.index - b.index);
  if (keptMain.length === 0) throw new SlideError('BAD_REQUEST', 'the request would remove every image');
  const kept = new Set(keptIfds);

  const drops = new Map<Ifd, IfdDrops>();
  const dropsOf = (ifd: Ifd): IfdDrops => {
    let d = drops.get(ifd);
    if (!d) drops.set(ifd, (d = { entries: new Set(), parts: new Map() }));
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
      else {
        const parts = dropsOf(occ.ifd).parts;
        let p = parts.get(occ.entry);
        if (!p) parts.set(occ.entry, (p = { text: occ.text, dropped: new Set() }));
        p.dropped.add(occ.part);
      }
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
  // A value a removed directory shares with a kept entry of the same tag (NDPI writes one
  // BitsPerSample for every image) is that kept entry's value: it stays, not erased.
  const keptValues = new Set<string>();
  for (const ifd of kept) for (const e of ifd.entries) if (!e.inline && !drops.get(ifd)?.entries.has(e)) keptValues.add(`${e.tag}:${e.valueOffset}:${e.byteLength}`);
  const shared = (e: TiffEntry) => keptValues.has(`${e.tag}:${e.valueOffset}:${e.byteLength}`);
  for (const ifd of tiff.ifds) if (!kept.has(ifd)) await erased.addTree(ifd, signal, shared);

  const first = keptMain[0]!;
  const headerPatch = first.offset !== tiff.ifds[0]!.offset ? [{ offset: tiff.firstIfdPointerOffset, bytes: tiff.encodePointer(first.offset) }] : [];
  const state: KeepState = { tiff, map, erased, rewrites, keptText, kept, drops, ...(profile ? { profile } : {}) };
  for (const [i, ifd] of keptMain.entries()) {
    throwIfAborted(signal);
    await keepIfd(state, ifd, drops.get(ifd) ?? { entries: new Set(), parts: new Map() }, keptMain[i + 1]?.offset ?? 0, signal);
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
  /** Kept image directories (main chain and SubIFD images) and what to take out of each. */
  kept: ReadonlySet<Ifd>;
  drops: ReadonlyMap<Ifd, IfdDrops>;
  profile?: TiffVendorProfile;
}

/**
 * One kept main IFD: its block (re-serialised without the dropped entries, pointing to `next`),
 * its kept values (a structured text with dropped parts rebuilt over its old extent), its image
 * data, and the child directories the user kept; dropped values and directories go to `erased`.
 */
async function keepIfd(s: KeepState, ifd: Ifd, d: IfdDrops, next: number, signal?: AbortSignal): Promise<void> {
  const { tiff, map, erased } = s;
  const rebuilt = new Map<TiffEntry, Uint8Array>();
  for (const [e, p] of d.parts) if (!d.entries.has(e)) rebuilt.set(e, rebuiltValue(e, p.text, p.dropped));
  map.addBlock(ifd);
  for (const e of ifd.entries) {
    if (d.entries.has(e)) {
      erased.addValue(e);
      if (isChildPointer(e.tag)) for (const c of ifd.children) if (c.tag === e.tag) await erased.addTree(c.ifd, signal);
      continue;
    }
    const policy = tagPolicy(e, s.profile, ifd);
    if (policy.kind === 'unaccountable') {
      throw new SlideError('UNSUPPORTED', `IFD ${ifd.index} uses ${policy.reason} (${tagName(e.tag)}), which cannot be de-identified safely; remove that image`);
    }
    const newValue = rebuilt.get(e);
    if (newValue && !e.inline) {
      // A value short enough moves inline (TIFF requires it) and the old extent is all zeros.
      const bytes = new Uint8Array(e.byteLength);
      if (newValue.length > tiff.offsetSize) bytes.set(newValue);
      // Kept, but rewritten: not "data" that a rewrite must leave alone.
      map.ranges.add(e.valueOffset, e.valueOffset + e.byteLength);
      s.rewrites.push({ range: { start: e.valueOffset, end: e.valueOffset + e.byteLength }, patch: { offset: e.valueOffset, bytes } });
    } else map.addValue(e);
    if (e.type === TYPE_ASCII) s.keptText.push(newValue ? latin1(newValue) : e.value ? latin1(e.value) : '');
    if (isChildPointer(e.tag)) {
      for (const c of ifd.children) {
        if (c.tag !== e.tag) continue;
        // A SubIFD the driver listed as an image (a pyramid level) is kept like a main IFD: its
        // unlisted tags go, its next pointer (a SubIFD chain) stays as it was.
        if (s.kept.has(c.ifd)) await keepIfd(s, c.ifd, s.drops.get(c.ifd) ?? { entries: new Set(), parts: new Map() }, c.ifd.nextOffset, signal);
        // Otherwise the user kept this directory: it stays whole, data and all.
        else await map.addTree(c.ifd, signal);
      }
    }
  }
  await map.addImageData(ifd, signal);
  s.rewrites.push({ range: { start: ifd.offset, end: ifd.offset + ifd.byteLength }, patch: { offset: ifd.offset, bytes: serializeIfd(tiff, ifd, d.entries, rebuilt, next) } });
}

/** A structured text without its dropped parts (NUL-terminated for ASCII), checked to fit in place. */
function rebuiltValue(e: TiffEntry, text: StructuredText, dropped: ReadonlySet<number>): Uint8Array {
  if (typeSize(e.type) !== 1) throw new SlideError('INTERNAL', `${tagName(e.tag)} is not a text or byte value and cannot be rebuilt`);
  const body = text.rebuild((i) => !dropped.has(i));
  const value = e.type === TYPE_ASCII ? concatNul(body) : body;
  if (value.length > e.byteLength) throw new SlideError('INTERNAL', `the rebuilt ${tagName(e.tag)} is longer than the original`);
  return value;
}

function concatNul(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length + 1);
  out.set(body);
  return out;
}

/** The IFD block re-encoded at its old size: kept entries in order, new next pointer, zero tail. */
function serializeIfd(tiff: TiffFile, ifd: Ifd, drops: Set<TiffEntry>, rebuilt: ReadonlyMap<TiffEntry, Uint8Array>, next: number): Uint8Array {
  const out = new Uint8Array(ifd.byteLength);
  const dv = view(out);
  const le = tiff.littleEndian;
  const keptEntries = ifd.entries.filter((e) => !drops.has(e));
  out.set(tiff.encodeCount(keptEntries.length), 0);
  let p = tiff.countSize;
  for (const e of keptEntries) {
    dv.setUint16(p, e.tag, le);
    dv.setUint16(p + 2, e.type, le);
    const newValue = rebuilt.get(e);
    // Rebuilt texts are ASCII or byte arrays: one value per byte.
    const count = newValue ? newValue.length : e.count;
    if (tiff.bigTiff) setU64(dv, p + 4, count, le);
    else dv.setUint32(p + 4, count, le);
    const field = p + (tiff.bigTiff ? 12 : 8);
    if (newValue && newValue.length <= tiff.offsetSize) out.set(newValue, field);
    else if (e.inline) out.set(e.value!, field);
    else out.set(tiff.encodeOffset(e.valueOffset), field);
    p += tiff.entrySize;
  }
  out.set(tiff.encodePointer(next), p);
  // NDPI: the kept entries' high words follow the next pointer, in the kept entries' order.
  if (tiff.ndpi) out.set(tiff.ndpiExtension(keptEntries), p + tiff.pointerSize);
  return out;
}
