import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { RangedSource } from '../../src/server/storage/ranged-source.ts';

/** An object in memory behind a counting ranged fetch (what S3ObjectStore.read does over HTTP). */
function object(size: number, opts: ConstructorParameters<typeof RangedSource>[3] = {}) {
  const data = randomBytes(size);
  const fetched: [number, number][] = [];
  let failNext = false;
  const src = new RangedSource(
    size,
    'obj',
    async (offset, length) => {
      fetched.push([offset, length]);
      await new Promise((r) => setImmediate(r));
      if (failNext) {
        failNext = false;
        throw new Error('network down');
      }
      return new Uint8Array(data.subarray(offset, Math.min(size, offset + length)));
    },
    opts,
  );
  return { data, src, fetched, failOnce: () => void (failNext = true) };
}

const KiB = 1024;

describe('ranged source (block cache over ranged GETs)', () => {
  it('serves nearby small reads from one GET, and concurrent reads of a block from one GET', async () => {
    const { data, src, fetched } = object(1024 * KiB, { blockSize: 64 * KiB, maxBlocks: 8 });
    const reads = Array.from({ length: 40 }, (_, i) => [i * 1000, 12 + (i % 5)] as const);
    const got = await Promise.all(reads.map(([o, l]) => src.read(o, l)));
    reads.forEach(([o, l], i) => assert.deepEqual(Buffer.from(got[i]), data.subarray(o, o + l)));
    assert.deepEqual(fetched, [[0, 64 * KiB]], '40 reads in the first block: one GET');
    // A read spanning cached and missing blocks fetches only the missing run, as one GET.
    assert.deepEqual(Buffer.from(await src.read(60 * KiB, 100 * KiB)), data.subarray(60 * KiB, 160 * KiB));
    assert.deepEqual(fetched.slice(1), [[64 * KiB, 128 * KiB]]);
  });

  it('hands out copies: a caller patching what it read does not change the cache', async () => {
    const { data, src } = object(100 * KiB, { blockSize: 64 * KiB });
    const a = await src.read(10, 20);
    a.fill(0);
    assert.deepEqual(Buffer.from(await src.read(10, 20)), data.subarray(10, 30));
  });

  it('evicts the least recently used blocks, keeping the cache bounded', async () => {
    const { src, fetched } = object(1024 * KiB, { blockSize: 64 * KiB, maxBlocks: 4 });
    for (const b of [0, 1, 2, 3]) await src.read(b * 64 * KiB, 10);
    await src.read(0, 10); // block 0 is now the most recent
    await src.read(4 * 64 * KiB, 10); // evicts block 1
    const before = fetched.length;
    await src.read(0, 10);
    assert.equal(fetched.length, before, 'block 0 still cached');
    await src.read(64 * KiB, 10);
    assert.equal(fetched.length, before + 1, 'block 1 was evicted and is fetched again');
  });

  it('reads a sequential sweep with one GET per chunk, the next fetched ahead', async () => {
    const size = 10 * 256 * KiB + 77;
    const { data, src, fetched } = object(size, { blockSize: 16 * KiB, maxBlocks: 64, directReadBytes: 256 * KiB });
    const out: Buffer[] = [];
    for (let at = 0; at < size; at += 256 * KiB) out.push(Buffer.from(await src.read(at, 256 * KiB)));
    assert.deepEqual(Buffer.concat(out), data);
    assert.equal(fetched.length, 11, 'ten full chunks and the short last one, nothing fetched twice');
    assert.ok(fetched.every(([o, l]) => l === Math.min(256 * KiB, size - o)));
  });

  it('does not keep a failed GET: the next read tries again', async () => {
    const { data, src, failOnce } = object(200 * KiB, { blockSize: 64 * KiB });
    failOnce();
    await assert.rejects(src.read(5, 10), /network down/);
    assert.deepEqual(Buffer.from(await src.read(5, 10)), data.subarray(5, 15));
  });

  it('returns fewer bytes only at the end', async () => {
    const { data, src } = object(100_000, { blockSize: 64 * KiB });
    assert.deepEqual(Buffer.from(await src.read(99_990, 100)), data.subarray(99_990));
    assert.equal((await src.read(100_000, 5)).length, 0);
    assert.equal((await src.read(200_000, 5)).length, 0);
  });
});
