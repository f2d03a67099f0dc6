import { SlideError } from '../../shared/errors.ts';
import { printableRuns, valuePieces } from '../redact/encodings.ts';
import { overlapsAny, RangeSet, type Range } from '../redact/ranges.ts';
import { latin1, type TiffFile } from './tifflike.ts';

/**
 * The TIFF planner's two safety nets around the allowlist map: structures that overlap in a way
 * no edit can honour are refused, and text found in bytes nobody references is swept for.
 */

/** Orphaned bytes read for text, at most: beyond it they are still zeroed, just not searched for. */
const MAX_ORPHAN_READ = 16 * 1024 * 1024;
/** Orphaned text pieces swept for, at most (the longest): the sweep's cost grows with their number. */
const MAX_ORPHAN_PIECES = 512;

/**
 * Text in bytes no structure references (neither kept nor removed by the plan): descriptions an
 * in-place editor left behind, a vendor block whose tag was cut, directories another tool
 * unlinked. It is zeroed like any orphaned byte; its pieces are also swept, so a copy of it inside
 * data that stays fails the file. Pieces that equal text the output keeps on purpose (the kept
 * part of an old Aperio description) are not searched: finding them proves nothing.
 */
export async function orphanedText(tiff: TiffFile, orphans: Range[], keptText: string[], signal?: AbortSignal): Promise<Uint8Array[]> {
  // Keyed by text: unlinked compressed image data (an NDPI's macro after its directory was cut
  // off) yields ~4000 short printable runs per MiB, and comparing each with every other (and
  // sweeping for all of them) took minutes (fuzzer finding: a hang).
  const out = new Map<string, Uint8Array>();
  let budget = MAX_ORPHAN_READ;
  for (const r of orphans) {
    if (budget <= 0) break;
    const length = Math.min(r.end - r.start, budget);
    budget -= length;
    const bytes = await tiff.source.read(r.start, length, signal);
    for (const run of printableRuns(bytes)) {
      for (const piece of [run, ...valuePieces(run)]) {
        const text = latin1(piece);
        if (text.trim().length >= 5 && !out.has(text) && !keptText.some((k) => k.includes(text))) out.set(text, piece);
      }
    }
  }
  // Text left behind is long (descriptions, vendor blocks); chance runs in pixel data are short.
  // Past the cap only the longest pieces are swept for; the orphaned bytes are zeroed regardless.
  return [...out.values()].sort((a, b) => b.length - a.length).slice(0, MAX_ORPHAN_PIECES);
}

export function unionOf(a: Range[], b: Range[]): Range[] {
  const set = new RangeSet();
  for (const r of [...a, ...b].sort((x, y) => x.start - y.start)) set.add(r.start, r.end);
  return set.merged();
}

/**
 * Overlaps the plan cannot resolve safely are refused: an erased byte that something kept also
 * uses would survive (or the kept thing would break); a rewritten IFD or description that shares
 * bytes with kept data (a strip inside an IFD, a value pointing into a directory) would corrupt it.
 */
export function checkOverlaps(erased: Range[], keep: Range[], rewritten: Range[], data: Range[]): void {
  for (const r of erased) {
    if (overlapsAny(keep, r.start, r.end)) {
      throw new SlideError('CORRUPT', `data that must be removed shares bytes with data that is kept (bytes ${r.start}–${r.end}): the file's structure overlaps and cannot be de-identified safely`);
    }
  }
  const sorted = [...rewritten].sort((a, b) => a.start - b.start);
  for (let i = 0; i < sorted.length; i++) {
    const r = sorted[i]!;
    if (overlapsAny(data, r.start, r.end) || (i > 0 && sorted[i - 1]!.end > r.start)) {
      throw new SlideError('CORRUPT', `an image directory or description overlaps other data (bytes ${r.start}–${r.end}): the file's structure cannot be de-identified safely`);
    }
  }
}
