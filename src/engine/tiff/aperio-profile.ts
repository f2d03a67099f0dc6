import { buildAperioDescription, classifyAperioKey, isAperioDescription, parseAperioDescription } from './aperio-description.ts';
import { Tag } from './tags.ts';
import { displayText, latin1Bytes } from './tifflike.ts';
import type { StructuredText, TextPart, TiffVendorProfile } from './vendor-profile.ts';

/**
 * Aperio's vendor profile: every ImageDescription in Aperio layout is reviewed as its pieces —
 * the header's file-name segments and each "|Key = Value" pair (classified by key and value
 * shape, aperio-description.ts). The first header segment (version, geometry) is structure.
 */
export const aperioProfile: TiffVendorProfile = {
  name: 'aperio',
  structuredText(tiff, ifd, e) {
    if (e.tag !== Tag.ImageDescription) return undefined;
    const desc = tiff.ascii(ifd, Tag.ImageDescription);
    return isAperioDescription(desc) ? aperioText(desc!) : undefined;
  },
};

function aperioText(desc: string): StructuredText {
  const d = parseAperioDescription(desc);
  const parts: TextPart[] = [];
  /** For each part: the header segment or pair it stands for. */
  const owners: ({ segment: number } | { pair: number })[] = [];
  d.segments.forEach((s, i) => {
    if (s.structural) return;
    const text = s.text.trim();
    parts.push({ id: 'aperio:header-name', label: 'File name in description header', value: text, class: 'phi', reason: 'original file name', sweep: text ? [latin1Bytes(text)] : [] });
    owners.push({ segment: i });
  });
  d.pairs.forEach((p, i) => {
    if (p.key === '' && p.value === '') return;
    const c = classifyAperioKey(p.key, p.value);
    parts.push({ id: `aperio:${p.key}`, label: p.key, value: displayText(latin1Bytes(p.value)), class: c.class, reason: c.reason, sweep: p.value ? [latin1Bytes(p.value)] : [] });
    owners.push({ pair: i });
  });
  return {
    parts,
    rebuild(keep) {
      const segments = new Set<number>();
      const pairs = new Set<number>();
      owners.forEach((o, i) => {
        if (keep(i)) return;
        if ('segment' in o) segments.add(o.segment);
        else pairs.add(o.pair);
      });
      return latin1Bytes(buildAperioDescription(d, (k) => !segments.has(k), (k) => !pairs.has(k)));
    },
  };
}
