import { SlideError } from '../../../shared/errors.ts';
import { Tag } from '../../tiff/tags.ts';
import { displayText, latin1Bytes, type Ifd, type TiffEntry, type TiffFile } from '../../tiff/tifflike.ts';
import type { StructuredText, TiffVendorProfile } from '../../tiff/vendor-profile.ts';
import { parsePhilipsXml, type PhilipsXml } from './philips-xml.ts';

/** OpenSlide detects Philips by Software starting with this; associated IFDs by these description prefixes. */
export const PHILIPS_SOFTWARE = 'Philips';
export const ASSOCIATED_PREFIXES = ['Label', 'Macro'] as const;
/** The XML holds the label and macro JPEGs; beyond this it is not a description any more. */
const MAX_XML_BYTES = 64 * 1024 * 1024;

const parsed = new WeakMap<TiffEntry, PhilipsXml>();

/**
 * The first ImageDescription's value can exceed the bytes the TIFF reader loads eagerly (the
 * label and macro JPEGs are inside it); structuredText() is synchronous, so the driver loads it
 * first. Returns the parsed XML (cached per entry: fields, plan and verification share one parse).
 */
export async function loadPhilipsXml(tiff: TiffFile, ifd: Ifd, signal?: AbortSignal): Promise<PhilipsXml> {
  const e = tiff.entry(ifd, Tag.ImageDescription);
  if (!e) throw new SlideError('UNSUPPORTED', 'Philips TIFF without its XML description is not supported');
  if (e.byteLength > MAX_XML_BYTES) throw new SlideError('UNSUPPORTED', 'the Philips XML description is too large');
  // Filling the lazily read value in place: every later reader of this entry sees the same bytes.
  if (!e.value) e.value = await tiff.bytes(e, signal);
  return xmlOf(tiff, ifd, e);
}

function xmlOf(tiff: TiffFile, ifd: Ifd, e: TiffEntry): PhilipsXml {
  let x = parsed.get(e);
  if (!x) {
    const text = tiff.ascii(ifd, Tag.ImageDescription);
    if (text === undefined) throw new SlideError('INTERNAL', 'the Philips XML description was not loaded');
    x = parsePhilipsXml(text);
    parsed.set(e, x);
  }
  return x;
}

/**
 * Philips TIFF's vendor profile. The first IFD's XML is reviewed attribute by attribute
 * (philips-xml.ts). Software keeps its "Philips" prefix (OpenSlide's detection) and the version
 * after it is a part; a stripped IFD's description keeps "Label"/"Macro" (how OpenSlide finds
 * those images, should the user keep them) and anything after it is a part.
 */
export const philipsProfile: TiffVendorProfile = {
  name: 'philips',
  structuredText(tiff, ifd, e) {
    if (ifd.kind !== 'main') return undefined;
    if (e.tag === Tag.Software) return prefixText(tiff.ascii(ifd, Tag.Software), [PHILIPS_SOFTWARE], 'philips:software', 'Software (305)', 'scanner software version (device identity); "Philips" stays: OpenSlide needs it');
    if (e.tag !== Tag.ImageDescription) return undefined;
    if (ifd.index === 0) return xmlOf(tiff, ifd, e);
    if (tiff.isTiled(ifd)) return undefined;
    return prefixText(tiff.ascii(ifd, Tag.ImageDescription), ASSOCIATED_PREFIXES, 'philips:associated-description', 'Label/macro description (270)', 'free text after the image name');
  },
};

/** A text whose known first word is structure and whose rest (if any) is one identifying part. */
function prefixText(text: string | undefined, prefixes: readonly string[], id: string, label: string, reason: string): StructuredText | undefined {
  const prefix = prefixes.find((p) => text?.startsWith(p));
  if (text === undefined || prefix === undefined) return undefined;
  const rest = text.slice(prefix.length);
  const sweepText = rest.replace(/\0/g, ' ').trim();
  if (rest === '') return { parts: [], rebuild: () => latin1Bytes(text) };
  return {
    parts: [{ id, label, value: displayText(latin1Bytes(text)).replace(/\0/g, ' / '), class: 'phi', reason, sweep: sweepText ? [latin1Bytes(sweepText)] : [] }],
    rebuild: (keep) => latin1Bytes(keep(0) ? text : prefix),
  };
}
