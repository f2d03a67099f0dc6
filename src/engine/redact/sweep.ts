import { concatBytes } from '../../shared/bytes.ts';

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
 * Ranges of a pushed chunk known to hold only zero bytes (the reader's byte check proved them),
 * flat and chunk-relative: [from0, to0, from1, to1, …], sorted, disjoint.
 */
export type ZeroRanges = number[];

/** A span of output bytes. */
export interface ByteRange {
  offset: number;
  length: number;
}

/**
 * Multi-pattern streaming search built for throughput in plain JS. Every searched value is at
 * least SWEEP_FLOOR (5) bytes long, so each occurrence covers a whole 2-byte unit that starts at
 * a multiple of 4 (at most 3 bytes into the value). The scan therefore reads one 16-bit unit per
 * 4 bytes, at a fixed stride (no dependency between iterations, so the CPU pipelines the loads),
 * and looks it up in a 64K table of the grams that occur at offsets 0..3 of some value: few grams,
 * so noise-like pixel data almost never hits the table (2 lookups per 4 bytes and a gram per
 * value position made the sweep cost as much as the OPFS write on dense DICOM pixel data). A match
 * is counted only at its first 4-aligned unit, so once.
 *
 * Generated ranges: bytes of the output the plan made up itself (remapped DICOM UIDs, 2.25. + ~39
 * random digits). A removed value that is only digits turns up inside one of them by chance (a
 * 5-digit patient ID in about 2 % of slides) without anything having leaked, so a match lying
 * wholly inside a generated range is not counted.
 */
export class PhiSweeper {
  readonly searched: number;
  readonly skipped: number;
  hits = 0;
  /** Output offset of the last counted match (for messages: an offset, never the value). */
  lastHitOffset = -1;
  private readonly hitIndex = new Set<number>();
  private readonly patterns: Uint8Array[];
  private readonly maxLen: number;
  private readonly flags = new Uint8Array(65536);
  /** Gram (as a native-endian 16-bit unit) -> (pattern id, offset 0..3 of the gram in the pattern). */
  private readonly grams = new Map<number, number[]>();
  private carry = new Uint8Array(0);
  /** Output offset of the next byte pushed. */
  private pos = 0;

  constructor(values: Uint8Array[], totalBytes: number, private readonly generated: readonly ByteRange[] = []) {
    // >= SWEEP_FLOOR: the one-unit-per-4-bytes scan relies on it.
    const min = Math.max(SWEEP_FLOOR, sweepMinLength(totalBytes));
    this.patterns = values.filter((v) => v.length >= min).map((v) => v.subarray(0, MAX_PATTERN));
    this.searched = this.patterns.length;
    this.skipped = values.length - this.patterns.length;
    this.maxLen = this.patterns.reduce((a, p) => Math.max(a, p.length), 0);
    const le = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
    this.patterns.forEach((p, id) => {
      for (let j = 0; j < 4; j++) {
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

  /**
   * Feed the next bytes of the output, in order. `zeros`: ranges of `chunk` known to be zero,
   * which the scan may step over (see scan) — the result is the same, only faster.
   */
  push(chunk: Uint8Array, zeros?: ZeroRanges): void {
    const at = this.pos;
    this.pos += chunk.length;
    if (this.patterns.length === 0 || chunk.length === 0) return;
    const keep = this.maxLen - 1;
    if (this.carry.length > 0) {
      // Matches that start in the carried tail and end in this chunk.
      const joint = concatBytes([this.carry, chunk.subarray(0, Math.min(chunk.length, keep))]);
      this.scan(joint, this.carry.length, at - this.carry.length);
    }
    this.scan(chunk, -1, at, zeros);
    const all = chunk.length >= keep ? chunk.subarray(chunk.length - keep) : concatBytes([this.carry, chunk]).subarray(-keep);
    this.carry = keep > 0 ? all.slice() : new Uint8Array(0);
  }

  /**
   * Scan `t` (whose first byte is output offset `base`); with boundary >= 0 count only matches
   * starting before and ending after it.
   */
  private scan(bytes: Uint8Array, boundary: number, base: number, zeros?: ZeroRanges): void {
    // 16-bit loads need an even byte offset: copy in the rare case the bytes are not (sources
    // hand out fresh buffers; only the small joint buffer is ever copied here).
    const t = bytes.byteOffset % 2 === 0 ? bytes : bytes.slice();
    const units = new Uint16Array(t.buffer, t.byteOffset, Math.floor(t.length / 2));
    const count = units.length;
    // A unit wholly inside a zero range is 0x0000; when no value has that gram (no value with
    // two NULs in a row at its start), such a unit can never flag a match: step over it.
    let i = 0;
    if (zeros && this.flags[0] === 0) {
      for (let k = 0; k + 1 < zeros.length; k += 2) {
        const skipFrom = Math.ceil(zeros[k]! / 4) * 2; // first scanned unit starting in the range
        const skipTo = Math.ceil((Math.floor((zeros[k + 1]! - 2) / 2) + 1) / 2) * 2; // first scanned unit not wholly in it
        if (skipTo <= skipFrom) continue;
        if (skipFrom > i) this.scanUnits(t, units, i, Math.min(skipFrom, count), boundary, base);
        i = Math.max(i, skipTo);
      }
    }
    this.scanUnits(t, units, i, count, boundary, base);
  }

  /** Scan units [from, to) (from even: units[i] starts at byte 2i, every other one at a multiple of 4). */
  private scanUnits(t: Uint8Array, units: Uint16Array, from: number, to: number, boundary: number, base: number): void {
    const flags = this.flags;
    for (let i = from; i < to; i += 2) {
      if (flags[units[i]!] !== 0) this.check(t, i * 2, units[i]!, boundary, base);
    }
  }

  private insideGenerated(offset: number, length: number): boolean {
    return this.generated.some((r) => offset >= r.offset && offset + length <= r.offset + r.length);
  }

  private check(t: Uint8Array, at: number, unit: number, boundary: number, base: number): void {
    const list = this.grams.get(unit);
    if (!list) return;
    for (let k = 0; k < list.length; k += 2) {
      const p = this.patterns[list[k]!]!;
      const start = at - list[k + 1]!;
      // Offsets 0..3 only, so `at` is the first 4-aligned unit of this occurrence: counted once.
      if (start < 0 || start + p.length > t.length) continue;
      if (boundary >= 0 && !(start < boundary && start + p.length > boundary)) continue;
      let i = 0;
      while (i < p.length && t[start + i] === p[i]) i++;
      if (i === p.length && !this.insideGenerated(base + start, p.length)) {
        this.hits++;
        this.lastHitOffset = base + start;
        this.hitIndex.add(list[k]!);
      }
    }
  }
}
