/**
 * The zero-copy reader's fast paths give the same answers as the plain ones (issue 15): the
 * word-wise non-zero count, and the sweep stepping over ranges the byte check proved zero —
 * checked against naive loops on data with zero runs, values planted across the runs' edges,
 * odd offsets and lengths, and a value whose first bytes are NULs (then nothing is skipped).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countNonZero } from '../../src/engine/redact/zero-bytes.ts';
import { PhiSweeper, type ZeroRanges } from '../../src/engine/redact/sweep.ts';

function rng(seed: number): () => number {
  let x = seed;
  return () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
}

test('countNonZero equals a byte loop at every alignment and length', () => {
  const r = rng(7);
  const buf = new Uint8Array(20_000);
  for (let i = 0; i < buf.length; i++) buf[i] = r() < 0.01 ? 1 + Math.floor(r() * 255) : 0;
  buf.fill(0, 9000, 13_000); // a block of zeros, and one lone byte inside a long zero run
  buf[11_111] = 0x80;
  for (const base of [0, 1, 2, 3]) {
    const bytes = buf.subarray(base);
    for (let k = 0; k < 200; k++) {
      const from = Math.floor(r() * bytes.length);
      const to = from + Math.floor(r() * (bytes.length - from));
      let want = 0;
      for (let i = from; i < to; i++) if (bytes[i] !== 0) want++;
      assert.equal(countNonZero(bytes, from, to), want, `base ${base} [${from}, ${to})`);
    }
  }
  assert.equal(countNonZero(new Uint8Array(0), 0, 0), 0);
});

/** Zero runs in random data; the values planted across each run's edges (inside the data, not the runs). */
function dataWithZeroRuns(seed: number, values: Uint8Array[]): { data: Uint8Array; zeros: ZeroRanges } {
  const r = rng(seed);
  const data = new Uint8Array(64 * 1024);
  for (let i = 0; i < data.length; i++) data[i] = 1 + Math.floor(r() * 5); // few symbols, no zeros
  const zeros: ZeroRanges = [];
  for (let at = 500 + seed; at + 3000 < data.length; at += 4000 + Math.floor(r() * 7)) {
    const len = 1 + Math.floor(r() * 2500);
    data.fill(0, at, at + len);
    zeros.push(at, at + len);
    // A value ending at the run's start, one starting at its end, one just clear of each edge.
    const v = values[Math.floor(r() * values.length)]!;
    if (at - v.length - 1 >= 0) data.set(v, at - v.length);
    if (at + len + v.length + 1 < data.length) data.set(v, at + len);
    if (at + len + 1 + v.length < data.length) data.set(v, at + len + 1);
  }
  return { data, zeros };
}

function sweepCount(values: Uint8Array[], data: Uint8Array, chunk: number, zeros?: ZeroRanges): number {
  const s = new PhiSweeper(values, 1000);
  for (let at = 0; at < data.length; at += chunk) {
    const end = Math.min(data.length, at + chunk);
    // The zero ranges of this chunk, chunk-relative (as CheckedReader passes them).
    const z: ZeroRanges = [];
    for (let k = 0; zeros && k < zeros.length; k += 2) {
      const from = Math.max(zeros[k]!, at), to = Math.min(zeros[k + 1]!, end);
      if (from < to) z.push(from - at, to - at);
    }
    s.push(data.subarray(at, end), zeros ? z : undefined);
  }
  return s.hits;
}

test('the sweep finds the same matches when it steps over proven-zero ranges', () => {
  const values = [Uint8Array.of(1, 2, 3, 4, 5), Uint8Array.of(5, 4, 3, 2, 1, 1), Uint8Array.of(2, 2, 3, 3, 4, 4, 5)];
  for (let seed = 1; seed <= 8; seed++) {
    const { data, zeros } = dataWithZeroRuns(seed, values);
    const plain = sweepCount(values, data, data.length);
    assert.ok(plain > 20, `planted values were found (${plain})`);
    for (const chunk of [data.length, 4093, 1000, 777]) assert.equal(sweepCount(values, data, chunk, zeros), plain, `seed ${seed}, chunk ${chunk}`);
  }
});

test('a value that starts with NULs is still found inside and at the edges of a zero range', () => {
  const value = Uint8Array.of(0, 0, 0, 7, 9, 7);
  const data = new Uint8Array(10_000).fill(3);
  data.fill(0, 1000, 5000);
  data.set(value.subarray(3), 5000); // the value's NULs are the run's last bytes
  data.set(value, 7001);
  const zeros: ZeroRanges = [1000, 5000];
  assert.equal(sweepCount([value], data, data.length), 2);
  assert.equal(sweepCount([value], data, 999, zeros), 2);
});
