import { toSlideError } from '../../shared/errors.ts';
import { SegmentScrubber } from '../codecs/segment-scrubber.ts';
import type { ByteSource } from '../io/byte-source.ts';
import { complement, type Range } from '../redact/ranges.ts';
import type { OutputCheckOptions } from '../redact/verify-output.ts';
import { isAperioDescription } from './aperio-description.ts';
import { collectTiffFields } from './fields.ts';
import { StructureMap } from './structure-map.ts';
import { tagPolicy } from './tag-policy.ts';
import { Tag, tagName } from './tags.ts';
import { TiffFile } from './tifflike.ts';

const CHUNK = 8 * 1024 * 1024;

/**
 * TIFF half of verifyOutputAlone. From the output's bytes alone: parse it, classify every field
 * with the same allowlist the planner used (anything identifying must be one the user kept), map
 * every byte its structure references (header, IFDs, values, strips/tiles, child directories),
 * then read the file once and require every byte outside the map to be zero and every JPEG /
 * JPEG 2000 codestream header to hold no text segment that is not blank.
 */
export async function verifyTiffOutput(part: ByteSource, opts: OutputCheckOptions): Promise<string[]> {
  const { signal } = opts;
  const kept = opts.keptFields ?? new Set<string>();
  let tiff: TiffFile;
  try {
    tiff = await TiffFile.open(part, signal);
  } catch (e) {
    return [`the output cannot be parsed as TIFF (${toSlideError(e).code})`];
  }
  const problems: string[] = [];
  const aperio = isAperioDescription(tiff.ascii(tiff.ifds[0]!, Tag.ImageDescription));
  try {
    for (const f of collectTiffFields(tiff, aperio)) {
      if (f.class !== 'phi' || kept.has(f.id)) continue;
      // Aperio keys are text from the file (a key could itself be a name): never repeated.
      problems.push(f.id.startsWith('aperio:') ? 'the description holds an identifying Aperio entry' : `the output holds ${f.label}, which is identifying`);
    }
  } catch (e) {
    problems.push(`the output's tags cannot be read (${toSlideError(e).code})`);
  }
  const map = new StructureMap(tiff);
  try {
    for (const ifd of tiff.ifds) {
      for (const e of ifd.entries) {
        if (tagPolicy(e).kind === 'unaccountable') problems.push(`IFD ${ifd.index} holds ${tagName(e.tag)}, which cannot be accounted for`);
      }
      await map.addTree(ifd, signal);
    }
  } catch (e) {
    return [...problems, `the output's structure cannot be mapped (${toSlideError(e).code})`];
  }
  const outside = complement(map.ranges.merged(), tiff.size);
  const { nonZero, textSegments } = await scan(part, outside, new SegmentScrubber(map.codestreams(), 'check'), signal);
  if (nonZero > 0) problems.push(`${nonZero} byte(s) outside the image structure are not blank`);
  if (textSegments > 0) problems.push(`${textSegments} text segment(s) inside JPEG/JPEG 2000 data are not blank`);
  return problems;
}

/** One sequential read: count non-zero bytes inside `outside` and unblanked codestream text. */
async function scan(part: ByteSource, outside: Range[], checker: SegmentScrubber, signal?: AbortSignal): Promise<{ nonZero: number; textSegments: number }> {
  let nonZero = 0;
  let r = 0;
  const buffer = part.readInto ? new ArrayBuffer(CHUNK) : undefined;
  for (let offset = 0; offset < part.size; offset += CHUNK) {
    const length = Math.min(CHUNK, part.size - offset);
    const bytes = buffer && part.readInto ? await part.readInto(offset, length, buffer, signal) : await part.read(offset, length, signal);
    if (bytes.length !== length) return { nonZero: nonZero + (part.size - offset), textSegments: checker.found };
    const end = offset + length;
    while (r < outside.length && outside[r]!.end <= offset) r++;
    for (let k = r; k < outside.length && outside[k]!.start < end; k++) {
      const from = Math.max(outside[k]!.start, offset) - offset;
      const to = Math.min(outside[k]!.end, end) - offset;
      for (let i = from; i < to; i++) if (bytes[i] !== 0) nonZero++;
    }
    checker.process(bytes, offset);
  }
  return { nonZero, textSegments: checker.found };
}
