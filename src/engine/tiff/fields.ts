import type { FieldClass, MetadataField } from '../formats/slide-format.ts';
import { classifyAperioKey, parseAperioDescription, isAperioDescription } from './aperio-description.ts';
import { Tag, tagName, TYPE_ASCII, typeSize } from './tags.ts';
import { decodeNumbers, displayText, latin1Bytes, trimNul, type Ifd, type TiffEntry, type TiffFile } from './tifflike.ts';

/** Where a field's value sits in the file: the planner edits exactly these positions. */
export type FieldOccurrence =
  | { kind: 'tag'; ifd: Ifd; entry: TiffEntry }
  | { kind: 'aperio-pair'; ifd: Ifd; pairIndex: number }
  | { kind: 'aperio-segment'; ifd: Ifd; segmentIndex: number };

export interface TiffField extends MetadataField {
  occurrences: FieldOccurrence[];
  /** Raw bytes of every distinct value, for the PHI sweep (never logged). */
  values: Uint8Array[];
}

/** Tags that describe the image structure: never listed as metadata, never removable. */
const STRUCTURAL = new Set<number>([
  254, 255, 256, 257, 258, 259, 262, 263, 264, 265, 266, 273, 274, 277, 278, 279, 280, 281, 284, 290, 291,
  292, 293, 317, 318, 319, 320, 321, 322, 323, 324, 325, 330, 332, 338, 339, 340, 341, 347, 512, 513, 514,
  515, 517, 518, 519, 520, 521, 529, 530, 531, 532, 32997, 32998,
]);

const TIFF_CLASS: Record<number, { class: FieldClass; reason: string }> = {
  [Tag.XResolution]: { class: 'critical', reason: 'pixel size (MPP)' },
  [Tag.YResolution]: { class: 'critical', reason: 'pixel size (MPP)' },
  [Tag.ResolutionUnit]: { class: 'critical', reason: 'pixel size (MPP)' },
  [Tag.ICCProfile]: { class: 'critical', reason: 'colour profile' },
  [Tag.DateTime]: { class: 'phi', reason: 'scan date and time' },
  [Tag.Artist]: { class: 'phi', reason: 'person who made the image' },
  [Tag.HostComputer]: { class: 'phi', reason: 'computer name' },
  [Tag.DocumentName]: { class: 'phi', reason: 'document name (often the case or file name)' },
  [Tag.PageName]: { class: 'phi', reason: 'page name (free text)' },
  [Tag.ImageDescription]: { class: 'phi', reason: 'free text' },
  [Tag.Make]: { class: 'phi', reason: 'device identity' },
  [Tag.Model]: { class: 'phi', reason: 'device identity' },
  [Tag.Software]: { class: 'phi', reason: 'device identity' },
  [Tag.XMP]: { class: 'phi', reason: 'XMP metadata (free text)' },
  [Tag.IPTC]: { class: 'phi', reason: 'IPTC metadata' },
  [Tag.Photoshop]: { class: 'phi', reason: 'Photoshop metadata' },
  [Tag.ExifIFD]: { class: 'phi', reason: 'EXIF directory (dates, device serials)' },
  [Tag.GPSIFD]: { class: 'phi', reason: 'GPS directory (location)' },
  [Tag.InteropIFD]: { class: 'phi', reason: 'EXIF interoperability directory' },
  [Tag.Copyright]: { class: 'neutral', reason: 'copyright notice' },
};

export function classifyTiffTag(tag: number): { class: FieldClass; reason: string } | 'structural' {
  if (STRUCTURAL.has(tag)) return 'structural';
  const known = TIFF_CLASS[tag];
  if (known) return known;
  if (tag >= 32768) return { class: 'phi', reason: 'private tag: treated as identifying' };
  return { class: 'neutral', reason: 'standard TIFF tag' };
}

function displayTagValue(tiff: TiffFile, e: TiffEntry, childEntries?: number): string {
  if (childEntries !== undefined) return `<directory with ${childEntries} entries>`;
  if (!e.value) return `<${e.byteLength} bytes>`;
  if (e.type === TYPE_ASCII) return displayText(trimNul(e.value)).replace(/\0/g, ' / ');
  if ((e.type === 1 || e.type === 7) && e.count > 8) return `<${e.byteLength} bytes>`;
  if (typeSize(e.type) === 0) return `<unknown type ${e.type}>`;
  if (e.count > 8) return `<${e.count} values>`;
  return decodeNumbers(e.value, e.type, tiff.littleEndian, tagName(e.tag)).map((n) => String(Math.round(n * 1e6) / 1e6)).join(', ');
}

/** Sweepable bytes of a tag value: each NUL-separated ASCII string, or the raw blob. */
export function tagSweepValues(e: TiffEntry, bytes: Uint8Array | undefined): Uint8Array[] {
  if (!bytes) return [];
  if (e.type === TYPE_ASCII) return splitNul(bytes);
  if (e.type === 1 || e.type === 7 || e.type === 6) return bytes.length > 0 ? [trimNul(bytes)] : [];
  return [];
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
    } else if (f.value !== display && !f.value.endsWith(' more)')) {
      f.value = `${f.value} (+ more)`;
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

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Metadata fields of a TIFF: every non-structural tag of every IFD (children included), merged by
 * tag; with `aperio`, ImageDescriptions in Aperio layout are split into their pairs and header
 * file name instead of being one free-text field.
 */
export function collectTiffFields(tiff: TiffFile, aperio: boolean): TiffField[] {
  const b = new FieldBuilder();
  for (const ifd of tiff.allIfds()) {
    const childCount = new Map<TiffEntry, number>();
    for (const c of ifd.children) {
      const e = tiff.entry(ifd, c.tag);
      if (e) childCount.set(e, (childCount.get(e) ?? 0) + c.ifd.entries.length);
    }
    for (const e of ifd.entries) {
      if (e.tag === Tag.ImageDescription && aperio) {
        const desc = tiff.ascii(ifd, Tag.ImageDescription);
        if (isAperioDescription(desc)) {
          addAperio(b, ifd, desc!);
          continue;
        }
      }
      if (ifd.kind === 'exif' || ifd.kind === 'gps' || ifd.kind === 'interop') continue; // summarised by the parent's pointer tag
      const cls = classifyTiffTag(e.tag);
      if (cls === 'structural') continue;
      const values = e.tag === Tag.ExifIFD || e.tag === Tag.GPSIFD || e.tag === Tag.InteropIFD ? childAsciiValues(ifd, e.tag) : tagSweepValues(e, e.value);
      b.add(`tiff:${e.tag}`, `${tagName(e.tag)} (${e.tag})`, cls, displayTagValue(tiff, e, childCount.get(e)), { kind: 'tag', ifd, entry: e }, values);
    }
  }
  return b.list();
}

function addAperio(b: FieldBuilder, ifd: Ifd, desc: string): void {
  const d = parseAperioDescription(desc);
  d.segments.forEach((s, i) => {
    if (s.structural) return;
    const text = s.text.trim();
    b.add('aperio:header-name', 'File name in description header', { class: 'phi', reason: 'original file name' }, text,
      { kind: 'aperio-segment', ifd, segmentIndex: i }, text ? [latin1Bytes(text)] : []);
  });
  d.pairs.forEach((p, i) => {
    if (p.key === '' && p.value === '') return;
    b.add(`aperio:${p.key}`, p.key, classifyAperioKey(p.key), displayText(latin1Bytes(p.value)),
      { kind: 'aperio-pair', ifd, pairIndex: i }, p.value ? [latin1Bytes(p.value)] : []);
  });
}

/** ASCII values inside EXIF/GPS/Interop child directories (what a sweep should look for). */
function childAsciiValues(ifd: Ifd, tag: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  const walk = (d: Ifd) => {
    for (const e of d.entries) if (e.type === TYPE_ASCII) out.push(...tagSweepValues(e, e.value));
    for (const c of d.children) walk(c.ifd);
  };
  for (const c of ifd.children) if (c.tag === tag) walk(c.ifd);
  return out;
}
