import type { FieldClass } from '../formats/slide-format.ts';
import { Tag } from './tags.ts';
import type { Ifd, TiffEntry } from './tifflike.ts';
import type { TiffVendorProfile } from './vendor-profile.ts';

/**
 * The reviewed allowlist of TIFF tags (default deny). A tag is kept by Auto redact only when it is
 * listed here AND its value has a type and size that cannot carry free text: a number or a few
 * numbers, or one of the few binary blobs a decoder needs (JPEGTables, ICC profile). Every other
 * tag — unknown standard tags, private tags, EXIF/GPS/Interop/SubIFD directories, any text —
 * is identifying and removed by Auto redact; the review shows it with its number and name.
 */
export type TagPolicy =
  /** Needed to decode the image: never listed, never removable. */
  | { kind: 'structural' }
  /** A structural tag whose type or size is impossible: the file is refused (never passed through). */
  | { kind: 'malformed'; reason: string }
  /** A structural tag the engine cannot account for (old-style JPEG table pointers): refused if kept. */
  | { kind: 'unaccountable'; reason: string }
  | { kind: 'field'; class: FieldClass; reason: string };

/** Numeric field types (BYTE…IFD8 without ASCII and UNDEFINED): cannot spell text in a few values. */
const NUMERIC = new Set([1, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 16, 17, 18]);
const BLOB = new Set([1, 7]);

/** What type and how many values a tag may have (shared with vendor profiles). */
export interface TypeRule {
  types: ReadonlySet<number>;
  /** Largest number of values a genuine file has (per-sample tags: up to 16 samples). */
  maxCount: number;
}

const ONE: TypeRule = { types: NUMERIC, maxCount: 1 };
const PER_SAMPLE: TypeRule = { types: NUMERIC, maxCount: 16 };
const FEW: TypeRule = { types: NUMERIC, maxCount: 8 };
const TABLE: TypeRule = { types: NUMERIC, maxCount: 3 * 65536 };
/** Strip/tile offset and byte count arrays: their length is checked against the image geometry. */
const ARRAY: TypeRule = { types: NUMERIC, maxCount: Number.MAX_SAFE_INTEGER };

const STRUCTURAL: ReadonlyMap<number, TypeRule> = new Map<number, TypeRule>([
  [254, ONE], [255, ONE], [256, ONE], [257, ONE], [258, PER_SAMPLE], [259, ONE], [262, ONE], [263, ONE],
  [264, ONE], [265, ONE], [266, ONE], [273, ARRAY], [274, ONE], [277, ONE], [278, ONE], [279, ARRAY],
  [280, PER_SAMPLE], [281, PER_SAMPLE], [284, ONE], [290, ONE], [291, TABLE], [292, ONE], [293, ONE],
  [317, ONE], [318, FEW], [319, FEW], [320, TABLE], [321, FEW], [322, ONE], [323, ONE], [324, ARRAY],
  [325, ARRAY], [332, ONE], [338, PER_SAMPLE], [339, PER_SAMPLE], [340, PER_SAMPLE], [341, PER_SAMPLE],
  [Tag.JPEGTables, { types: BLOB, maxCount: 1024 * 1024 }],
  [512, ONE], [Tag.JPEGInterchangeFormat, ONE], [Tag.JPEGInterchangeFormatLength, ONE], [515, ONE],
  [517, PER_SAMPLE], [518, PER_SAMPLE], [529, FEW], [530, FEW], [531, ONE], [532, FEW],
  [32997, ONE], [32998, ONE],
]);

/** Old-style JPEG (compression 6) table pointers: each value points to a table of its own. */
const UNACCOUNTABLE = new Set([519, 520, 521]);

const ALLOWED: ReadonlyMap<number, TypeRule & { class: FieldClass; reason: string }> = new Map([
  [Tag.XResolution, { ...ONE, class: 'critical' as const, reason: 'pixel size (MPP)' }],
  [Tag.YResolution, { ...ONE, class: 'critical' as const, reason: 'pixel size (MPP)' }],
  [Tag.ResolutionUnit, { ...ONE, class: 'critical' as const, reason: 'pixel size (MPP)' }],
  [Tag.ICCProfile, { types: BLOB, maxCount: 16 * 1024 * 1024, class: 'critical' as const, reason: 'colour profile' }],
  [286, { ...ONE, class: 'neutral' as const, reason: 'image position (numbers only)' }],
  [287, { ...ONE, class: 'neutral' as const, reason: 'image position (numbers only)' }],
  [297, { ...FEW, class: 'neutral' as const, reason: 'page number (numbers only)' }],
  [301, { ...TABLE, class: 'neutral' as const, reason: 'transfer function (numbers only)' }],
  [342, { ...FEW, class: 'neutral' as const, reason: 'transfer range (numbers only)' }],
]);

/** Why a known tag that is not on the allowlist is identifying (for the review's tooltip). */
const IDENTIFYING: Record<number, string> = {
  [Tag.DateTime]: 'scan date and time',
  [Tag.Artist]: 'person who made the image',
  [Tag.HostComputer]: 'computer name',
  [Tag.DocumentName]: 'document name (often the case or file name)',
  [Tag.PageName]: 'page name (free text)',
  [Tag.ImageDescription]: 'free text',
  [Tag.Make]: 'device identity',
  [Tag.Model]: 'device identity',
  [Tag.Software]: 'device identity',
  [Tag.XMP]: 'XMP metadata (free text)',
  [Tag.IPTC]: 'IPTC metadata',
  [Tag.Photoshop]: 'Photoshop metadata',
  [Tag.ExifIFD]: 'EXIF directory (dates, device serials)',
  [Tag.GPSIFD]: 'GPS directory (location)',
  [Tag.InteropIFD]: 'EXIF interoperability directory',
  [Tag.SubIFDs]: 'sub-image directories (images the review does not show)',
  [Tag.Copyright]: 'copyright notice (free text)',
  337: 'target printer (free text)',
  333: 'ink names (free text)',
  288: 'pointers to unused space',
  289: 'pointers to unused space',
};

/** Whether an entry has a type and count the rule allows. */
export function fits(e: TiffEntry, rule: TypeRule): boolean {
  return rule.types.has(e.type) && e.count >= 1 && e.count <= rule.maxCount;
}

/**
 * The allowlist decision for one entry (type and size included). A vendor profile decides first
 * for the tags it knows (NDPI's private numbers, …); the generic rules decide the rest.
 */
export function tagPolicy(e: TiffEntry, profile?: TiffVendorProfile, ifd?: Ifd): TagPolicy {
  const vendor = profile?.tag && ifd ? profile.tag(e, ifd) : undefined;
  if (vendor) return vendor;
  const structural = STRUCTURAL.get(e.tag);
  if (structural) {
    return fits(e, structural) ? { kind: 'structural' } : { kind: 'malformed', reason: `has an impossible type or size (type ${e.type}, ${e.count} values)` };
  }
  if (UNACCOUNTABLE.has(e.tag)) return { kind: 'unaccountable', reason: 'old-style JPEG table pointers' };
  const allowed = ALLOWED.get(e.tag);
  if (allowed) {
    if (fits(e, allowed)) return { kind: 'field', class: allowed.class, reason: allowed.reason };
    return { kind: 'field', class: 'phi', reason: `${allowed.reason}, but with an unexpected type or size: treated as identifying` };
  }
  const known = IDENTIFYING[e.tag];
  if (known) return { kind: 'field', class: 'phi', reason: known };
  if (e.tag >= 32768) return { kind: 'field', class: 'phi', reason: 'private tag (vendor data): not on the reviewed list' };
  return { kind: 'field', class: 'phi', reason: 'not on the reviewed list of tags that cannot carry identifying text' };
}

/** Tags whose value is a pointer to child directories (kept or removed with their whole subtree). */
export function isChildPointer(tag: number): boolean {
  return tag === Tag.SubIFDs || tag === Tag.ExifIFD || tag === Tag.GPSIFD || tag === Tag.InteropIFD;
}
