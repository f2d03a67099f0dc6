import { plural } from '../../shared/plural.ts';
import { toSlideError } from '../../shared/errors.ts';
import { SegmentScrubber } from '../codecs/segment-scrubber.ts';
import type { ByteSource } from '../io/byte-source.ts';
import { complement } from '../redact/ranges.ts';
import { scanOutside } from '../redact/scan-outside.ts';
import type { OutputCheckOptions } from '../formats/slide-format.ts';
import type { TiffField } from './fields.ts';
import { StructureMap } from './structure-map.ts';
import { tagPolicy } from './tag-policy.ts';
import { tagName } from './tags.ts';
import type { TiffFile } from './tifflike.ts';
import type { TiffVendorProfile } from './vendor-profile.ts';

/**
 * TIFF half of the output-alone check (TiffSlide.verifyAsOutput): the output was re-opened by its
 * driver, so `fields` are classified with the same allowlist and vendor profile the planner used
 * (anything identifying must be one the user kept). Then map every byte the structure references
 * (header, IFDs, values, strips/tiles, child directories), read the file once and require every
 * byte outside the map to be zero and every JPEG / JPEG 2000 codestream header to hold no text
 * segment that is not blank. `part` is the raw output (read once, sequentially, not through
 * the parser's block cache).
 */
export async function verifyTiffOutput(part: ByteSource, tiff: TiffFile, fields: readonly TiffField[], profile: TiffVendorProfile | undefined, opts: OutputCheckOptions): Promise<string[]> {
  const { signal } = opts;
  const kept = opts.keptFields ?? new Set<string>();
  const problems: string[] = [];
  for (const f of fields) {
    if (f.class !== 'phi' || kept.has(f.id)) continue;
    // Structured-text keys are text from the file (a key could itself be a name): never repeated.
    problems.push(f.id.startsWith('tiff:') ? `the output holds ${f.label}, which is identifying` : `the output holds an identifying ${profile?.name ?? 'vendor'} metadata entry`);
  }
  const map = new StructureMap(tiff);
  try {
    for (const ifd of tiff.ifds) {
      for (const e of ifd.entries) {
        if (tagPolicy(e, profile, ifd).kind === 'unaccountable') problems.push(`IFD ${ifd.index} holds ${tagName(e.tag)}, which cannot be accounted for`);
      }
      await map.addTree(ifd, signal);
    }
  } catch (e) {
    return [...problems, `the output's structure cannot be mapped (${toSlideError(e).code})`];
  }
  const outside = complement(map.ranges.merged(), tiff.size);
  const { nonZero, textSegments } = await scanOutside(part, outside, new SegmentScrubber(map.codestreams(), 'check'), signal, opts.deferByteScan);
  if (nonZero > 0) problems.push(`${plural(nonZero, 'byte')} outside the image structure ${nonZero === 1 ? 'is' : 'are'} not blank`);
  if (textSegments > 0) problems.push(`${textSegments} text segment(s) inside JPEG/JPEG 2000 data are not blank`);
  return problems;
}
