import { Tag } from '../../tiff/tags.ts';
import { displayText, latin1Bytes, trimNul, latin1, type Ifd, type TiffEntry, type TiffFile } from '../../tiff/tifflike.ts';
import type { StructuredText, TiffVendorProfile } from '../../tiff/vendor-profile.ts';
import { parseVentanaXmp, type VentanaXmp } from './xmp.ts';

/**
 * Ventana BIF's additions to the TIFF allowlist. XMP (700) is Ventana's structured text (xmp.ts);
 * ImageDescription is structure when it is one of the fixed names OpenSlide looks for or a level
 * line "level=N mag=M quality=Q" (strictly: anything else would be text the review never saw);
 * any other description is one identifying part.
 */

/** "level=0 mag=40 quality=90": digits and a decimal magnification only. */
export const LEVEL_DESCRIPTION = /^level=(\d{1,3}) mag=(\d{1,4}(?:\.\d{1,8})?) quality=(\d{1,3})$/;
export const LABEL_DESCRIPTIONS: ReadonlySet<string> = new Set(['Label Image', 'Label_Image']);
export const THUMBNAIL_DESCRIPTION = 'Thumbnail';
export const PROBABILITY_DESCRIPTIONS: ReadonlySet<string> = new Set(['Probability Image', 'Probability_Image']);

export function parseLevelDescription(desc: string): { level: number; magnification: number } | undefined {
  const m = LEVEL_DESCRIPTION.exec(desc);
  return m ? { level: Number(m[1]), magnification: Number(m[2]) } : undefined;
}

export function isFixedDescription(desc: string): boolean {
  return LABEL_DESCRIPTIONS.has(desc) || desc === THUMBNAIL_DESCRIPTION || PROBABILITY_DESCRIPTIONS.has(desc) || LEVEL_DESCRIPTION.test(desc);
}

/** XMP types a writer uses: BYTE (the XMP spec), UNDEFINED, or ASCII. */
const XMP_TYPES = new Set([1, 2, 7]);

/** The XMP of a directory as a latin-1 string, if its value is loaded (the driver loads every XMP). */
export function xmpString(tiff: TiffFile, ifd: Ifd): string | undefined {
  const e = tiff.entry(ifd, Tag.XMP);
  if (!e?.value || !XMP_TYPES.has(e.type)) return undefined;
  return latin1(trimNul(e.value));
}

/** Parsed XMP per entry: fields, the plan and verification parse the same value more than once. */
const parsed = new WeakMap<TiffEntry, VentanaXmp | null>();

export function ventanaXmp(tiff: TiffFile, ifd: Ifd): VentanaXmp | undefined {
  const e = tiff.entry(ifd, Tag.XMP);
  if (!e) return undefined;
  let p = parsed.get(e);
  if (p === undefined) {
    const s = xmpString(tiff, ifd);
    p = (s === undefined ? undefined : parseVentanaXmp(s)) ?? null;
    parsed.set(e, p);
  }
  return p ?? undefined;
}

const STRUCTURE: StructuredText = { parts: [], rebuild: () => new Uint8Array(0) };

export const ventanaProfile: TiffVendorProfile = {
  name: 'ventana',
  tag(e) {
    // XMP that is not Ventana's own (structuredText returned undefined) is plain free text.
    if (e.tag === Tag.XMP) return { kind: 'field', class: 'phi', reason: 'XMP that is not Ventana scanner metadata' };
    return undefined;
  },
  structuredText(tiff, ifd, e) {
    if (e.tag === Tag.XMP) return ventanaXmp(tiff, ifd)?.text;
    if (e.tag !== Tag.ImageDescription) return undefined;
    const desc = tiff.ascii(ifd, Tag.ImageDescription);
    if (desc === undefined) return undefined;
    if (isFixedDescription(desc)) return { ...STRUCTURE, rebuild: () => latin1Bytes(desc) };
    return {
      parts: [{ id: 'ventana:description', label: 'Image description', value: displayText(latin1Bytes(desc)), class: 'phi', reason: 'a description Ventana does not write: free text', sweep: desc.trim() ? [latin1Bytes(desc.trim())] : [] }],
      rebuild: (keep) => (keep(0) ? latin1Bytes(desc) : new Uint8Array(0)),
    };
  },
};
