import type { SegmentScrubber } from '../codecs/segment-scrubber.ts';
import type { ByteSource } from '../io/byte-source.ts';
import type { OutputCheckOptions } from '../formats/slide-format.ts';
import type { Range } from './ranges.ts';

const CHUNK = 8 * 1024 * 1024;

/**
 * The byte half of every output-alone check (TIFF family, MIRAX Data files): one sequential read
 * of an output part counting non-zero bytes inside `outside` (what the format's structure does not
 * reference: it must be blank) while `checker` counts unblanked text segments in the kept JPEG /
 * JPEG 2000 codestreams. A part shorter than it claims counts its missing bytes as non-zero.
 */
/** One sequential read: count non-zero bytes inside `outside` and unblanked codestream text. */
export async function scanOutside(part: ByteSource, outside: Range[], checker: SegmentScrubber, signal?: AbortSignal, defer?: OutputCheckOptions['deferByteScan']): Promise<{ nonZero: number; textSegments: number }> {
  if (defer) {
    // The caller checks the bytes as it reads them (the zero-copy upload: chunk by chunk).
    defer(part, outside, checker);
    return { nonZero: 0, textSegments: 0 };
  }
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
