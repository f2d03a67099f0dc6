import type { TagPolicy } from '../../tiff/tag-policy.ts';
import { Tag } from '../../tiff/tags.ts';
import type { Ifd, TiffEntry } from '../../tiff/tifflike.ts';
import type { TiffVendorProfile } from '../../tiff/vendor-profile.ts';
import type { OmeXml } from './ome-xml.ts';

/** SubIFD offsets: LONG/IFD (classic) or LONG8/IFD8 (BigTIFF); a pyramid has tens of levels at most. */
const SUBIFD_TYPES = new Set([4, 13, 16, 18]);
const MAX_SUBIFDS = 64;

/**
 * OME-TIFF's additions to the generic allowlist: the OME-XML in IFD 0's ImageDescription is
 * reviewed part by part (ome-xml.ts), and the SubIFDs pointer of a directory whose SubIFDs the
 * driver opened as pyramid levels is structure (kept, so the levels stay reachable). Every other
 * SubIFDs pointer stays a removable field (generic rule).
 */
export function omeProfile(xml: OmeXml, levelParents: ReadonlySet<Ifd>): TiffVendorProfile {
  return {
    name: 'ome',
    tag(e: TiffEntry, ifd: Ifd): TagPolicy | undefined {
      if (e.tag !== Tag.SubIFDs || !levelParents.has(ifd)) return undefined;
      if (!SUBIFD_TYPES.has(e.type) || e.count < 1 || e.count > MAX_SUBIFDS) return { kind: 'malformed', reason: `has an impossible type or size (type ${e.type}, ${e.count} values)` };
      return { kind: 'structural' };
    },
    structuredText(_tiff, ifd, e) {
      return ifd.kind === 'main' && ifd.index === 0 && e.tag === Tag.ImageDescription ? xml.text : undefined;
    },
  };
}
