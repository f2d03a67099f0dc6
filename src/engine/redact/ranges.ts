/**
 * Byte ranges [start, end) of a file, as the allowlist planner and the output-alone verification
 * use them: collect what a structure accounts for, merge, and take the complement (what must be
 * zero). Offsets are plain numbers (files are far beyond 4 GiB).
 */
export interface Range {
  start: number;
  end: number;
}

/**
 * Collects ranges, folding each into the previous one when they touch (tiles are usually written
 * back to back, so a 100k-tile level collapses into a handful of ranges as it is read).
 */
export class RangeSet {
  private ranges: Range[] = [];
  private sorted = true;

  add(start: number, end: number): void {
    if (!(end > start)) return;
    const last = this.ranges[this.ranges.length - 1];
    if (last && start >= last.start && start <= last.end) {
      if (end > last.end) last.end = end;
      return;
    }
    if (last && start < last.start) this.sorted = false;
    this.ranges.push({ start, end });
  }

  /** Sorted, disjoint, non-touching ranges. */
  merged(): Range[] {
    if (!this.sorted) this.ranges.sort((a, b) => a.start - b.start);
    this.sorted = true;
    const out: Range[] = [];
    for (const r of this.ranges) {
      const last = out[out.length - 1];
      if (last && r.start <= last.end) last.end = Math.max(last.end, r.end);
      else out.push({ ...r });
    }
    this.ranges = out;
    return out;
  }
}

/** [0, size) minus `kept` (sorted and merged). */
export function complement(kept: readonly Range[], size: number): Range[] {
  const out: Range[] = [];
  let pos = 0;
  for (const r of kept) {
    if (r.start > pos) out.push({ start: pos, end: Math.min(r.start, size) });
    pos = Math.max(pos, r.end);
    if (pos >= size) break;
  }
  if (pos < size) out.push({ start: pos, end: size });
  return out.filter((r) => r.end > r.start);
}

/** Whether [start, end) overlaps any of `ranges` (sorted and merged), by binary search. */
export function overlapsAny(ranges: readonly Range[], start: number, end: number): boolean {
  let lo = 0;
  let hi = ranges.length;
  // First range whose end is past `start`.
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ranges[mid]!.end <= start) lo = mid + 1;
    else hi = mid;
  }
  return lo < ranges.length && ranges[lo]!.start < end;
}
