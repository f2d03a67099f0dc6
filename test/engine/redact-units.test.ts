import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { BufferSink, BufferSource } from '../../src/engine/io/buffer-source.ts';
import { BlockedSource } from '../../src/engine/io/blocked-source.ts';
import { RecordingSource } from '../../src/engine/io/recording-source.ts';
import { applyOutputPlan } from '../../src/engine/redact/apply.ts';
import { Sha256 } from '../../src/engine/redact/sha256.ts';
import { PhiSweeper, sweepMinLength } from '../../src/engine/redact/sweep.ts';
import { decodeLzw } from '../../src/engine/codecs/lzw.ts';
import { decodeDicomRle } from '../../src/engine/codecs/rle.ts';
import type { ByteSource } from '../../src/engine/io/byte-source.ts';
import { spliceJpegTables, insertAdobeRgbMarker, hasAdobeMarker } from '../../src/engine/codecs/jpeg.ts';
import { SlideError } from '../../src/shared/errors.ts';
import type { Patch } from '../../src/engine/redact/plan-types.ts';
import { encodeLzw } from '../fixtures/lzw-encode.ts';

const rnd = (n: number, seed = 1) => {
  const a = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    a[i] = Math.floor(x / 65536) % 256;
  }
  return a;
};

test('sha256 (WebAssembly and plain-TS rounds) matches node:crypto for split inputs of every awkward length', () => {
  assert.equal(new Sha256().engine, 'wasm');
  for (const engine of ['wasm', 'js'] as const) {
    // 2.5 MiB + 3: more than one WebAssembly input window (1 MiB) in a single update.
    for (const n of [0, 1, 55, 56, 63, 64, 65, 127, 128, 1000, 70001, 2.5 * 1024 * 1024 + 3]) {
      const d = rnd(n, n + 3);
      const h = new Sha256({ engine });
      assert.equal(h.engine, engine);
      h.update(d.subarray(0, Math.floor(n / 3)));
      h.update(d.subarray(Math.floor(n / 3)));
      assert.equal(h.digestHex(), createHash('sha256').update(d).digest('hex'), `${engine}, length ${n}`);
    }
  }
});

test('sweep finds values anywhere, including across chunk boundaries of any size', () => {
  const value = new TextEncoder().encode('PATIENT-NAME-XYZ');
  const other = new TextEncoder().encode('ACC-12345');
  for (const at of [0, 1, 4090, 4095, 4096 - 8, 8191, 20000 - value.length]) {
    const data = rnd(20000, at + 7);
    data.set(value, at);
    for (const chunk of [1, 3, 7, 4096, 20000]) {
      const s = new PhiSweeper([value, other], data.length);
      for (let i = 0; i < data.length; i += chunk) s.push(data.subarray(i, i + chunk));
      assert.equal(s.hits, 1, `at ${at} chunk ${chunk}`);
      assert.deepEqual(s.found, [0]);
    }
  }
  const clean = new PhiSweeper([value, other], 1 << 20);
  clean.push(new Uint8Array(1 << 20));
  clean.push(rnd(1 << 20));
  assert.equal(clean.hits, 0);
});

test('sweep minimum length grows with output size (chance matches in random pixel data)', () => {
  assert.equal(sweepMinLength(2e6), 5);
  assert.equal(sweepMinLength(4.5 * 2 ** 30), 6);
  const s = new PhiSweeper([new Uint8Array([1, 2, 3, 4]), new Uint8Array([1, 2, 3, 4, 5])], 1000);
  assert.equal(s.searched, 1);
  assert.equal(s.skipped, 1);
});

test('apply: segments from several parts and bytes, patches spanning segment and chunk boundaries', async () => {
  const a = rnd(5000, 1), b = rnd(3000, 2);
  const lit = new Uint8Array([9, 9, 9, 9, 9, 9, 9]);
  const expected = new Uint8Array([...a.subarray(100, 2100), ...lit, ...b.subarray(0, 3000), ...a.subarray(0, 10)]);
  const patches: Patch[] = [
    { offset: 1990, fill: 0, length: 40 }, // across copy -> bytes -> copy
    { offset: 2005, bytes: new Uint8Array([1, 2, 3, 4, 5, 6]) }, // later patch wins over the fill
    { offset: expected.length - 3, fill: 7, length: 3 },
  ];
  for (const p of patches) {
    if ('fill' in p) expected.fill(p.fill, p.offset, p.offset + p.length);
    else expected.set(p.bytes, p.offset);
  }
  for (const chunkSize of [1, 13, 1000, 1 << 20]) {
    const sink = new BufferSink();
    const seen: number[] = [];
    await applyOutputPlan(
      { name: 'x', size: expected.length, segments: [
        { kind: 'copy', part: 0, offset: 100, length: 2000 }, { kind: 'bytes', bytes: lit },
        { kind: 'copy', part: 1, offset: 0, length: 3000 }, { kind: 'copy', part: 0, offset: 0, length: 10 },
      ], patches },
      [new BufferSource(a, 'a'), new BufferSource(b, 'b')], sink, { chunkSize, onProgress: (d) => seen.push(d) },
    );
    assert.deepEqual(sink.toBytes(), expected, `chunk ${chunkSize}`);
    assert.equal(seen.at(-1), expected.length);
  }
  // The source's own memory is never modified by patches.
  assert.deepEqual(a, rnd(5000, 1));
});

test('apply: a source that reads into given memory cycles through two buffers; patches never touch them', async () => {
  const data = rnd(100_000, 3);
  const buffers = new Set<ArrayBuffer>();
  const src: ByteSource = {
    size: data.length,
    name: 'into',
    read: async () => assert.fail('the pass should read into its own buffers'),
    readInto: async (offset, length, buffer) => {
      buffers.add(buffer);
      const view = new Uint8Array(buffer, 0, Math.min(length, data.length - offset));
      view.set(data.subarray(offset, offset + view.length));
      return view;
    },
  };
  const expected = data.slice();
  expected.fill(0, 2990, 3010);
  const sink = new BufferSink();
  const checked: Uint8Array[] = [];
  await applyOutputPlan(
    { name: 'x', size: data.length, segments: [{ kind: 'copy', part: 0, offset: 0, length: data.length }], patches: [{ offset: 2990, fill: 0, length: 20 }] },
    [src], sink, { chunkSize: 1000, onChunk: (b) => void checked.push(b.slice()) },
  );
  assert.deepEqual(sink.toBytes(), expected);
  assert.deepEqual(new Uint8Array(checked.flatMap((c) => [...c])), expected, 'the check saw the written bytes');
  assert.equal(buffers.size, 2, 'two buffers for 100 chunks');
});

test('RLE Lossless: PackBits segments decode to interleaved samples; a short segment is CORRUPT', () => {
  // 2x2 RGB: R plane as a run, G plane literal, B plane a run with a no-op byte (-128) first.
  const segs = [new Uint8Array([0xfd, 10]), new Uint8Array([3, 1, 2, 3, 4]), new Uint8Array([0x80, 0xfd, 7])];
  const frame = new Uint8Array(64 + segs.reduce((n, x) => n + x.length, 0));
  const dv = new DataView(frame.buffer);
  dv.setUint32(0, 3, true);
  let at = 64;
  segs.forEach((x, i) => {
    dv.setUint32(4 + i * 4, at, true);
    frame.set(x, at);
    at += x.length;
  });
  assert.deepEqual([...decodeDicomRle(frame, 2, 2, 3)], [10, 1, 7, 10, 2, 7, 10, 3, 7, 10, 4, 7]);
  assert.throws(() => decodeDicomRle(frame.subarray(0, frame.length - 1), 2, 2, 3), (e: unknown) => e instanceof SlideError && e.code === 'CORRUPT');
  assert.throws(() => decodeDicomRle(frame, 2, 2, 1), (e: unknown) => e instanceof SlideError && e.code === 'UNSUPPORTED');
});

test('apply: abort stops between chunks with ABORTED; bad plans are refused', async () => {
  const ac = new AbortController();
  const src = new BufferSource(rnd(10000));
  await assert.rejects(
    applyOutputPlan({ name: 'x', size: 10000, segments: [{ kind: 'copy', part: 0, offset: 0, length: 10000 }], patches: [] }, [src], new BufferSink(), {
      chunkSize: 100, signal: ac.signal, onProgress: (d) => { if (d >= 500) ac.abort(); },
    }),
    (e: unknown) => e instanceof SlideError && e.code === 'ABORTED',
  );
  await assert.rejects(applyOutputPlan({ name: 'x', size: 10, segments: [{ kind: 'copy', part: 0, offset: 0, length: 9 }], patches: [] }, [src], new BufferSink()), /add up/);
  await assert.rejects(applyOutputPlan({ name: 'x', size: 10, segments: [{ kind: 'copy', part: 0, offset: 0, length: 10 }], patches: [{ offset: 8, fill: 0, length: 5 }] }, [src], new BufferSink()), /outside/);
});

test('blocked source serves small reads from cached blocks and passes large reads through', async () => {
  const data = rnd(1 << 20);
  const rec = new RecordingSource(new BufferSource(data));
  const b = new BlockedSource(rec, 4096, 4);
  for (let i = 0; i < 100; i++) assert.deepEqual(await b.read(i * 10, 16), data.subarray(i * 10, i * 10 + 16));
  assert.equal(rec.reads, 1);
  assert.deepEqual(await b.read(4000, 200), data.subarray(4000, 4200)); // spans two blocks
  assert.deepEqual(await b.read(100000, 65536), data.subarray(100000, 165536));
  assert.ok(rec.bytesRead < 3 * 4096 + 65536 + 1);
  assert.equal((await b.read(data.length - 2, 10)).length, 2);
});

test('LZW decodes what a TIFF LZW encoder writes (incl. table resets), bounded by expected size', () => {
  for (const n of [1, 300, 5000, 200000]) {
    const d = n > 1000 ? rnd(n) : new Uint8Array(n).map((_, i) => i % 7);
    assert.deepEqual(decodeLzw(encodeLzw(d), n), d);
    assert.equal(decodeLzw(encodeLzw(d), Math.floor(n / 2)).length, Math.floor(n / 2));
  }
  assert.throws(() => decodeLzw(new Uint8Array([0xff, 0xff, 0xff]), 10), (e: unknown) => e instanceof SlideError && e.code === 'CORRUPT');
});

test('JPEG fix-ups: tables spliced after SOI, Adobe APP14 added once', () => {
  const tables = new Uint8Array([0xff, 0xd8, 0xff, 0xdb, 0x00, 0x03, 0x01, 0xff, 0xd9]);
  const tile = new Uint8Array([0xff, 0xd8, 0xff, 0xda, 0x00, 0x02, 0x55, 0xff, 0xd9]);
  const s = spliceJpegTables(tables, tile);
  assert.deepEqual([...s], [0xff, 0xd8, 0xff, 0xdb, 0x00, 0x03, 0x01, 0xff, 0xda, 0x00, 0x02, 0x55, 0xff, 0xd9]);
  const a = insertAdobeRgbMarker(s);
  assert.ok(hasAdobeMarker(a) && !hasAdobeMarker(s));
  assert.equal(insertAdobeRgbMarker(a), a);
  assert.equal(a[2 + 15], 0); // transform byte: 0 = RGB
});
