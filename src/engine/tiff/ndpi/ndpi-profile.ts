import { fits, type TagPolicy } from '../tag-policy.ts';
import { TYPE_ASCII } from '../tags.ts';
import { NDPI_FORMAT_FLAG, type TiffEntry } from '../tifflike.ts';
import type { TiffVendorProfile } from '../vendor-profile.ts';

/**
 * Hamamatsu NDPI's private tags (65420+), as OpenSlide's hamamatsu driver and the public format
 * notes name them, and what the allowlist does with each. Kept are only the numbers a reader
 * needs to read the slide as NDPI (OpenSlide 3.4.1 requires the format flag in the first
 * directory, SourceLens in every directory, the focal plane in every level; McuStarts lets it
 * find restart intervals without scanning) and the stage position it reports. Every text is
 * identifying; every other private tag stays default-deny (removed), named for the review.
 */
export const NdpiTag = {
  FormatFlag: NDPI_FORMAT_FLAG,
  SourceLens: 65421,
  XOffsetFromSlideCentre: 65422,
  YOffsetFromSlideCentre: 65423,
  FocalPlane: 65424,
  McuStarts: 65426,
  Reference: 65427,
  McuStartsHigh: 65432,
  ScannerSerialNumber: 65442,
  PropertyMap: 65449,
} as const;

const INTEGER = new Set([3, 4, 8, 9]);
const UNSIGNED = new Set([3, 4]);
const FLOAT = new Set([11, 12]);

interface Rule {
  types: ReadonlySet<number>;
  /** Largest count; McuStarts has one value per restart interval (checked by the driver). */
  maxCount: number;
  keep: { kind: 'structural' } | { kind: 'field'; class: 'critical'; reason: string };
}

const STRUCTURAL = { kind: 'structural' } as const;
const ONE_INT: Omit<Rule, 'keep'> = { types: INTEGER, maxCount: 1 };

const KEPT: ReadonlyMap<number, Rule> = new Map<number, Rule>([
  [NdpiTag.FormatFlag, { ...ONE_INT, keep: STRUCTURAL }],
  [NdpiTag.SourceLens, { types: FLOAT, maxCount: 1, keep: STRUCTURAL }],
  [NdpiTag.FocalPlane, { ...ONE_INT, keep: STRUCTURAL }],
  [NdpiTag.McuStarts, { types: UNSIGNED, maxCount: Number.MAX_SAFE_INTEGER, keep: STRUCTURAL }],
  [NdpiTag.McuStartsHigh, { types: UNSIGNED, maxCount: Number.MAX_SAFE_INTEGER, keep: STRUCTURAL }],
  [NdpiTag.XOffsetFromSlideCentre, { ...ONE_INT, keep: { kind: 'field', class: 'critical', reason: 'position of the scan on the slide (numbers only; OpenSlide reports it)' } }],
  [NdpiTag.YOffsetFromSlideCentre, { ...ONE_INT, keep: { kind: 'field', class: 'critical', reason: 'position of the scan on the slide (numbers only; OpenSlide reports it)' } }],
]);

/** Why each known identifying NDPI tag is removed (shown in the review). */
const IDENTIFYING: Record<number, string> = {
  [NdpiTag.Reference]: 'NDPI slide reference (the slide label text)',
  [NdpiTag.ScannerSerialNumber]: 'NDPI scanner serial number',
  [NdpiTag.PropertyMap]: 'NDPI scanner properties (serial numbers, dates, scanner settings)',
  65428: 'NDPI authentication code',
  65434: 'NDPI fluorescence channel name (free text)',
  65439: 'NDPI focus points (stage coordinates)',
  65440: 'NDPI focus point regions',
  65441: 'NDPI capture mode',
  65444: 'NDPI JPEG quality setting',
  65445: 'NDPI refocus interval',
  65446: 'NDPI focus offset',
  65448: 'NDPI firmware version (device identity)',
  65450: 'NDPI label obscured flag',
  65451: 'NDPI emission wavelength',
  65453: 'NDPI lamp age',
  65454: 'NDPI exposure time',
  65455: 'NDPI focus time',
  65456: 'NDPI scan time',
  65457: 'NDPI write time',
  65458: 'NDPI fully-automatic focus flag',
};

/** The NDPI decision for one entry; undefined = the generic allowlist rule. */
export function ndpiTagPolicy(e: TiffEntry): TagPolicy | undefined {
  const rule = KEPT.get(e.tag);
  if (rule) {
    if (!fits(e, rule)) return { kind: 'malformed', reason: `has an impossible type or size for NDPI (type ${e.type}, ${e.count} values)` };
    return rule.keep.kind === 'structural' ? { kind: 'structural' } : { kind: 'field', class: 'critical', reason: rule.keep.reason };
  }
  const known = IDENTIFYING[e.tag];
  if (known) return { kind: 'field', class: 'phi', reason: known };
  if (e.tag >= 65420 && e.tag < 65536) {
    return { kind: 'field', class: 'phi', reason: e.type === TYPE_ASCII ? 'NDPI private text (not on the reviewed list)' : 'NDPI private tag (not on the reviewed list)' };
  }
  return undefined;
}

/** Review labels of the NDPI tags (the reason says what each holds). */
const LABELS: Record<number, string> = {
  [NdpiTag.XOffsetFromSlideCentre]: 'NDPI X offset from slide centre',
  [NdpiTag.YOffsetFromSlideCentre]: 'NDPI Y offset from slide centre',
  [NdpiTag.Reference]: 'NDPI slide reference',
  [NdpiTag.ScannerSerialNumber]: 'NDPI scanner serial number',
  [NdpiTag.PropertyMap]: 'NDPI scanner properties',
  65428: 'NDPI authentication code',
  65434: 'NDPI channel name',
  65448: 'NDPI firmware version',
};

export const ndpiProfile: TiffVendorProfile = {
  name: 'ndpi',
  tag: (e) => ndpiTagPolicy(e),
  // Known tags by name (their reason without its explanation); other NDPI-range tags say whose they are.
  tagLabel: (tag) => LABELS[tag] ?? IDENTIFYING[tag]?.replace(/ \(.*\)$/, '') ?? (tag >= 65420 && tag < 65536 ? 'NDPI private tag' : undefined),
};
