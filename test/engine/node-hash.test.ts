/**
 * The off-thread node:crypto hasher used by the CLI: same digest as on-thread hashing, and a
 * cancelled redaction stops its hashing thread (Hasher.dispose) instead of leaving it running.
 * Threads are counted in /proc/self/task (Linux): the worker is unref'd, so neither the event
 * loop's resource list nor the process exit would show a leak.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openSlide } from '../../src/engine/open.ts';
import { NodeFileSource } from '../../src/engine/io/node/file-source.ts';
import { NodeDirTarget, threadedNodeSha256 } from '../../src/engine/io/node/dir-target.ts';
import { defaultRequest, redactSlide } from '../../src/engine/redact/redact.ts';
import type { Hasher } from '../../src/engine/redact/sha256.ts';
import { toSlideError } from '../../src/shared/errors.ts';
import { generateSlideFile, makeTmpDir } from '../fixtures/node-fixtures.ts';

const threads = () => readdirSync('/proc/self/task').length;

/** Wait until the thread count drops to `want` (thread exit is asynchronous), or time out. */
async function settleTo(want: number): Promise<number> {
  for (let i = 0; i < 100 && threads() > want; i++) await sleep(20);
  return threads();
}

test('threaded hasher: same digest as node:crypto on this thread, thread gone after digest', async () => {
  const base = threads();
  const data = new Uint8Array(5 * 1024 * 1024 + 17).map((_, i) => (i * 31) % 251);
  const h = threadedNodeSha256();
  for (let o = 0; o < data.length; o += 1024 * 1024) await h.update(data.subarray(o, o + 1024 * 1024));
  assert.equal(await h.digestHex(), createHash('sha256').update(data).digest('hex'));
  h.dispose?.();
  assert.equal(await settleTo(base), base);
});

test('threaded hasher: dispose stops the thread and fails a waiting update', { skip: !existsSync('/proc/self/task') }, async () => {
  const base = threads();
  const h = threadedNodeSha256();
  const chunk = new Uint8Array(8 * 1024 * 1024);
  await h.update(chunk);
  await h.update(chunk);
  assert.ok(threads() > base, 'the hashing thread is running');
  const waiting = h.update(chunk); // third in flight: waits for the thread (or for dispose)
  h.dispose?.();
  h.dispose?.(); // idempotent
  await assert.rejects(Promise.resolve(waiting).then(() => h.update(chunk)), (e: unknown) => toSlideError(e).code === 'ABORTED');
  assert.equal(await settleTo(base), base);
});

test('a redaction cancelled mid-way in Node leaves no hashing thread behind', { skip: !existsSync('/proc/self/task'), timeout: 60_000 }, async () => {
  const tmp = await makeTmpDir('wsi-hash-cancel-');
  try {
    const inPath = join(tmp.dir, 'in.svs');
    await generateSlideFile(inPath, { kind: 'svs', compression: 'jpeg', label: true, macro: true, extraTags: true, sparseLevel0: { across: 16, down: 16, tileBytes: 262144 } });
    const file = await NodeFileSource.open(inPath);
    try {
      const slide = await openSlide([file]);
      const base = threads();
      const made: Hasher[] = [];
      const ac = new AbortController();
      let chunks = 0;
      let peak = 0;
      const run = redactSlide(slide, defaultRequest(slide), new NodeDirTarget(join(tmp.dir, 'out')), {
        signal: ac.signal,
        chunkSize: 1024 * 1024,
        hasher: () => {
          const h = threadedNodeSha256();
          made.push(h);
          return h;
        },
        onProgress: () => {
          peak = Math.max(peak, threads());
          if (++chunks === 5) ac.abort();
        },
      });
      await assert.rejects(run, (e: unknown) => toSlideError(e).code === 'ABORTED');
      assert.ok(made.length >= 1 && chunks >= 5, 'cancelled while hashing');
      assert.ok(peak > base, 'a hashing thread ran during the redaction');
      assert.equal(await settleTo(base), base, 'hashing thread(s) still running after the cancel');
      assert.ok(!existsSync(join(tmp.dir, 'out', 'in.svs')), 'the cancelled output was removed');
    } finally {
      await file.close();
    }
  } finally {
    await tmp.cleanup();
  }
});
