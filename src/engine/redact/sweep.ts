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
 * Multi-pattern streaming search built for throughput in plain JS: the chunk is read as aligned
 * 32-bit words = two 16-bit units, at a fixed stride (no dependency between iterations, so the
 * CPU pipelines the loads), and each unit is looked up in a 64K table of the 2-byte grams that occur in any value.
 * Any occurrence of a value of length >= 3 contains at least one aligned unit, and the match is
 * counted only at its first aligned unit. Pixel data and zero runs almost never hit the table.
 */
export class PhiSweeper {
  readonly searched: number;
  readonly skipped: number;
  hits = 0;
  private readonly hitIndex = new Set<number>();
  private readonly patterns: Uint8Array[];
  private readonly maxLen: number;
  private readonly flags = new Uint8Array(65536);
  /** 2-gram (as a native-endian 16-bit unit) -> (pattern id, offset of the gram in the pattern). */
  private readonly grams = new Map<number, number[]>();
  private carry = new Uint8Array(0);
  private readonly littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

  constructor(values: Uint8Array[], totalBytes: number) {
    const min = sweepMinLength(totalBytes);
    this.patterns = values.filter((v) => v.length >= min).map((v) => v.subarray(0, MAX_PATTERN));
    this.searched = this.patterns.length;
    this.skipped = values.length - this.patterns.length;
    this.maxLen = this.patterns.reduce((a, p) => Math.max(a, p.length), 0);
    const le = this.littleEndian;
    this.patterns.forEach((p, id) => {
      for (let j = 0; j + 1 < p.length; j++) {
        const unit = le ? p[j]! + p[j + 1]! * 256 : p[j]! * 256 + p[j + 1]!;
        this.flags[unit] = 1;
        const list = this.grams.get(unit);
        if (list) list.push(id, j);
        else this.grams.set(unit, [id, j]);
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
      const joint = concat(this.carry, chunk.subarray(0, Math.min(chunk.length, keep)));
      this.scan(joint, this.carry.length);
    }
    this.scan(chunk, -1);
    const all = chunk.length >= keep ? chunk.subarray(chunk.length - keep) : concat(this.carry, chunk).subarray(-keep);
    this.carry = keep > 0 ? all.slice() : new Uint8Array(0);
  }

  /** Scan `t`; with boundary >= 0 count only matches starting before and ending after it. */
  private scan(bytes: Uint8Array, boundary: number): void {
    // Read 32-bit words (two units each); needs a 4-byte-aligned view, so copy in the rare case
    // the bytes are not (sources hand out fresh buffers).
    const t = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
    const n = t.length;
    const words = new Uint32Array(t.buffer, t.byteOffset, Math.floor(n / 4));
    const flags = this.flags;
    const count = words.length;
    const le = this.littleEndian;
    for (let i = 0; i < count; i++) {
      const w = words[i]!;
      if (w === 0) continue; // zero runs (sparse regions, padding) cost one compare per word
      const lo = w & 0xffff;
      const hi = w >>> 16;
      if ((flags[lo]! | flags[hi]!) === 0) continue;
      // Units in memory order: the low half comes first on little-endian machines.
      const first = le ? lo : hi;
      const second = le ? hi : lo;
      if (flags[first] !== 0) this.check(t, i * 4, first, boundary);
      if (flags[second] !== 0) this.check(t, i * 4 + 2, second, boundary);
    }
    // The last 2-3 bytes: one more whole unit if there is one.
    const tail = count * 4;
    if (n - tail >= 2) {
      const unit = le ? t[tail]! + t[tail + 1]! * 256 : t[tail]! * 256 + t[tail + 1]!;
      if (flags[unit] !== 0) this.check(t, tail, unit, boundary);
    }
  }

  private check(t: Uint8Array, at: number, unit: number, boundary: number): void {
    const list = this.grams.get(unit);
    if (!list) return;
    for (let k = 0; k < list.length; k += 2) {
      const p = this.patterns[list[k]!]!;
      const start = at - list[k + 1]!;
      // Count each occurrence once: at its first aligned unit.
      if (start < 0 || start + p.length > t.length || start + (start % 2) !== at) continue;
      if (boundary >= 0 && !(start < boundary && start + p.length > boundary)) continue;
      let i = 0;
      while (i < p.length && t[start + i] === p[i]) i++;
      if (i === p.length) {
        this.hits++;
        this.hitIndex.add(list[k]!);
      }
    }
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
