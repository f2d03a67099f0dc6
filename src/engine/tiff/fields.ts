import type { FieldClass, MetadataField } from '../formats/slide-format.ts';
import { sameBytes } from '../../shared/bytes.ts';
import { SlideError } from '../../shared/errors.ts';
import { tagPolicy } from './tag-policy.ts';
import { Tag, tagName, TYPE_ASCII, typeSize } from './tags.ts';
import { decodeNumbers, displayText, trimNul, type Ifd, type TiffEntry, type TiffFile } from './tifflike.ts';
import type { StructuredText, TiffVendorProfile } from './vendor-profile.ts';

/** Where a field's value sits in the file: the planner edits exactly these positions. */
export type FieldOccurrence =
  | { kind: 'tag'; ifd: Ifd; entry: TiffEntry }
  /** One part of a vendor's structured text (an Aperio pair, an XML element) in `entry`. */
  | { kind: 'text-part'; ifd: Ifd; entry: TiffEntry; text: StructuredText; part: number };

export interface TiffField extends MetadataField {
  occurrences: FieldOccurrence[];
  /** Raw bytes of every distinct value, for the PHI sweep (never logged). */
  values: Uint8Array[];
}

function displayTagValue(tiff: TiffFile, e: TiffEntry, childEntries?: number): string {
  if (childEntries !== undefined) return `<directory with ${childEntries} entries>`;
  if (!e.value) return `<${e.byteLength} bytes>`;
  if (e.type === TYPE_ASCII) return displayText(trimNul(e.value)).replace(/\0/g, ' / ');
  if ((e.type === 1 || e.type === 7) && e.count > 8) return `<${e.byteLength} bytes>`;
  if (e.count > 8) return `<${e.count} values>`;
  return decodeNumbers(e.value, e.type, tiff.littleEndian, tagName(e.tag)).map((n) => String(Math.round(n * 1e6) / 1e6)).join(', ');
}

/** Sweepable bytes of a tag value: each NUL-separated ASCII string, or the raw blob. */
export function tagSweepValues(e: TiffEntry, bytes: Uint8Array | undefined): Uint8Array[] {
  if (!bytes) return [];
  if (e.type === TYPE_ASCII) return splitNul(bytes).flatMap(withDatePart);
  if (e.type === 1 || e.type === 7 || e.type === 6) return bytes.length > 0 ? [trimNul(bytes)] : [];
  return [];
}

/**
 * A TIFF date-time ('YYYY:MM:DD HH:MM:SS') is also swept for its date alone: the day identifies as
 * much as the whole, and a copy of just it inside kept data went unnoticed (fuzzer finding).
 */
function withDatePart(v: Uint8Array): Uint8Array[] {
  return v.length === 19 && /^\d{4}:\d\d:\d\d \d\d:\d\d:\d\d$/.test(String.fromCharCode(...v)) ? [v, v.subarray(0, 10)] : [v];
}

function splitNul(b: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i <= b.length; i++) {
    if (i === b.length || b[i] === 0) {
      if (i > start) out.push(b.subarray(start, i));
      start = i + 1;
    }
  }
  return out;
}

function location(ifd: Ifd): string {
  return ifd.kind === 'main' ? `IFD ${ifd.index}` : `IFD ${ifd.index} ${ifd.kind}`;
}

class FieldBuilder {
  private readonly byId = new Map<string, TiffField>();
  add(id: string, label: string, cls: { class: FieldClass; reason: string }, display: string, occ: FieldOccurrence, values: Uint8Array[]): void {
    let f = this.byId.get(id);
    if (!f) {
      f = { id, label, value: display, class: cls.class, reason: cls.reason, locations: [], occurrences: [], values: [] };
      this.byId.set(id, f);
    } else {
      if (f.value !== display && !f.value.endsWith(' more)')) f.value = `${f.value} (+ more)`;
      // One identifying occurrence makes the whole field identifying (it is removed everywhere).
      if (cls.class === 'phi' && f.class !== 'phi') {
        f.class = 'phi';
        f.reason = cls.reason;
      }
    }
    const loc = location(occ.ifd);
    if (!f.locations!.includes(loc)) f.locations!.push(loc);
    f.occurrences.push(occ);
    for (const v of values) if (!f.values.some((x) => sameBytes(x, v))) f.values.push(v);
  }
  list(): TiffField[] {
    return [...this.byId.values()];
  }
}


/**
 * Metadata fields of a TIFF: every tag of every main-chain IFD that is not structural, merged by
 * tag and classified by the allowlist (tag-policy.ts, with the vendor profile's decisions first);
 * child directories (SubIFDs, EXIF, GPS, Interop) are one field each, by their pointer tag, and go
 * or stay whole. An entry the profile parses as structured text (an Aperio description, vendor
 * XML) is listed as its parts instead. A structural tag with an impossible type or size is
 * refused here (CORRUPT), never passed on.
 */
export function collectTiffFields(tiff: TiffFile, profile?: TiffVendorProfile): TiffField[] {
  const b = new FieldBuilder();
  for (const ifd of reviewedIfds(tiff, profile)) {
    const childCount = new Map<TiffEntry, number>();
    for (const c of ifd.children) {
      const e = tiff.entry(ifd, c.tag);
      if (e) childCount.set(e, (childCount.get(e) ?? 0) + c.ifd.entries.length);
    }
    for (const e of ifd.entries) {
      // Only one-byte types can be rebuilt in place as text; a retyped text tag is judged by its tag rule.
      const text = typeSize(e.type) === 1 ? profile?.structuredText?.(tiff, ifd, e) : undefined;
      if (text) {
        text.parts.forEach((p, part) => b.add(p.id, p.label, p, p.value, { kind: 'text-part', ifd, entry: e, text, part }, p.sweep));
        continue;
      }
      const policy = tagPolicy(e, profile, ifd);
      if (policy.kind === 'malformed') throw new SlideError('CORRUPT', `${location(ifd)}: ${tagName(e.tag)} ${policy.reason}`);
      if (policy.kind !== 'field') continue;
      const values = childCount.has(e) ? childSweepValues(ifd, e.tag) : tagSweepValues(e, e.value);
      b.add(`tiff:${e.tag}`, tagLabel(e.tag, profile), policy, displayTagValue(tiff, e, childCount.get(e)), { kind: 'tag', ifd, entry: e }, values);
    }
  }
  return b.list();
}

/** Text and byte values inside child directories (what a sweep should look for when they go). */
function childSweepValues(ifd: Ifd, tag: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  const walk = (d: Ifd) => {
    for (const e of d.entries) out.push(...tagSweepValues(e, e.value));
    for (const c of d.children) walk(c.ifd);
  };
  for (const c of ifd.children) if (c.tag === tag) walk(c.ifd);
  return out;
}

/**
 * The main chain plus the SubIFDs a profile made structural (OME-TIFF pyramid levels): those are
 * images the output keeps, so their own tags are reviewed and removed like a main IFD's.
 */
function reviewedIfds(tiff: TiffFile, profile?: TiffVendorProfile): Ifd[] {
  const out: Ifd[] = [];
  const walk = (ifd: Ifd) => {
    out.push(ifd);
    const pointer = tiff.entry(ifd, Tag.SubIFDs);
    if (!pointer || tagPolicy(pointer, profile, ifd).kind !== 'structural') return;
    for (const c of ifd.children) if (c.tag === Tag.SubIFDs) walk(c.ifd);
  };
  for (const ifd of tiff.ifds) walk(ifd);
  return out;
}

/** "DateTime (306)", "NDPI slide reference (65427)", "Private tag 65000" (its number once). */
function tagLabel(tag: number, profile?: TiffVendorProfile): string {
  const name = profile?.tagLabel?.(tag) ?? tagName(tag);
  return name.endsWith(String(tag)) ? name : `${name} (${tag})`;
}
