/**
 * The PHI sweep: after (and while) writing an output, search every byte of it for every removed
 * value. Runs on the exact bytes handed to the sink, in one streaming pass, in plain TS.
 *
 * Minimum length. Compressed pixel data is close to random bytes, and a random L-byte string
 * occurs in N bytes about N / 256^L times by chance: a 4-byte value is expected ~once in a 4 GiB
 * slide, so a sweep of short values would fail good outputs at random. We search a value only if
 * it is at least `sweepMinLength(outputBytes)` long: the smallest L >= 5 for which the expected
 * number of chance matches per value is below 1e-4 (5 bytes up to ~100 MB, 6 up to ~28 GB, 7
 * beyond). Shorter values are still removed by position; they are just not provable by search.
 * Values longer than 64 KiB are searched by their first 64 KiB.
 */

export const SWEEP_FLOOR = 5;
const MAX_PATTERN = 64 * 1024;
const CHANCE_LIMIT = 1e-4;

export function sweepMinLength(totalBytes: number): number {
  let len = SWEEP_FLOOR;
  while (totalBytes / 256 ** len > CHANCE_LIMIT) len++;
  return len;
}

/**
 * Multi-pattern streaming search (Wu–Manber with 2-byte blocks): the window jumps by up to m-1
 * bytes whenever its last two bytes occur in no pattern prefix, which is almost always for pixel
 * data and always for zero runs, so the sweep runs at several GB/s.
 */
export class PhiSweeper {
  readonly searched: number;
  readonly skipped: number;
  hits = 0;
  private readonly hitIndex = new Set<number>();
  private readonly patterns: Uint8Array[];
  private readonly m: number;
  private readonly maxLen: number;
  private readonly shift: Uint8Array;
  private readonly bucket = new Map<number, number[]>();
  private carry = new Uint8Array(0);

  constructor(values: Uint8Array[], totalBytes: number) {
    const min = sweepMinLength(totalBytes);
    this.patterns = values.filter((v) => v.length >= min).map((v) => v.subarray(0, MAX_PATTERN));
    this.searched = this.patterns.length;
    this.skipped = values.length - this.patterns.length;
    this.m = this.patterns.reduce((a, p) => Math.min(a, p.length), Infinity);
    this.maxLen = this.patterns.reduce((a, p) => Math.max(a, p.length), 0);
    const m = this.m;
    this.shift = new Uint8Array(65536);
    if (this.patterns.length === 0) return;
    const cap = Math.min(m - 1, 255);
    this.shift.fill(cap);
    this.patterns.forEach((p, id) => {
      for (let j = 1; j < m; j++) {
        const block = p[j - 1]! * 256 + p[j]!;
        const s = Math.min(m - 1 - j, 255);
        if (s < this.shift[block]!) this.shift[block] = s;
        if (j === m - 1) {
          const list = this.bucket.get(block);
          if (list) list.push(id);
          else this.bucket.set(block, [id]);
        }
      }
    });
  }

  /** Indexes (into the searched values) that were found; never the values themselves. */
  get found(): number[] {
    return [...this.hitIndex];
  }

  /** Feed the next bytes of the output, in order. */
  push(chunk: Uint8Array): void {
    if (this.patterns.length === 0 || chunk.length === 0) return;
    const keep = this.maxLen - 1;
    if (this.carry.length > 0) {
      // Matches that start in the carried tail and end in this chunk.
      const head = chunk.subarray(0, Math.min(chunk.length, keep));
      const joint = concat(this.carry, head);
      this.scan(joint, this.carry.length);
    }
    this.scan(chunk, -1);
    const all = chunk.length >= keep ? chunk.subarray(chunk.length - keep) : concat(this.carry, chunk).subarray(-keep);
    this.carry = keep > 0 ? all.slice() : new Uint8Array(0);
  }

  /** Scan `t`; with boundary >= 0 count only matches starting before and ending after it. */
  private scan(t: Uint8Array, boundary: number): void {
    const m = this.m;
    const shift = this.shift;
    const n = t.length;
    let pos = m - 1;
    while (pos < n) {
      const s = shift[t[pos - 1]! * 256 + t[pos]!]!;
      if (s > 0) {
        pos += s;
        continue;
      }
      const start = pos - m + 1;
      for (const id of this.bucket.get(t[pos - 1]! * 256 + t[pos]!) ?? []) {
        const p = this.patterns[id]!;
        if (start + p.length > n) continue;
        if (boundary >= 0 && !(start < boundary && start + p.length > boundary)) continue;
        let k = 0;
        while (k < p.length && t[start + k] === p[k]) k++;
        if (k === p.length) {
          this.hits++;
          this.hitIndex.add(id);
        }
      }
      pos++;
    }
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
