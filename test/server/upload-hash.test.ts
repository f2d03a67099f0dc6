import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { HashingFileStore } from '../../src/server/tus/hashing-store.ts';
import { memberOf, partMeta, removeDir, sha256, startServer, tusCreate, tusHead, tusPatch, type Client, type TestServer, localStorageOnly } from './support.ts';

/** @tus/utils is not a direct dependency; the store only reads these fields. */
const newUpload = (id: string, size: number) => ({ id, size, offset: 0, metadata: {}, creation_date: new Date().toISOString() }) as unknown as Parameters<HashingFileStore['create']>[0];
const idOf = (path: string): string => path.split('/').pop()!;

/** A readable that yields `chunks`, then fails like a dropped connection. */
function failingAfter(chunks: Buffer[]): Readable {
  return Readable.from(
    (async function* () {
      for (const c of chunks) {
        yield c;
        await new Promise((r) => setImmediate(r));
      }
      throw new Error('connection reset');
    })(),
    { objectMode: false },
  );
}

test('store: the running hash follows the writes; a failed write drops it and the prefix is re-read from disk once', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wsi-hash-store-'));
  try {
    const store = new HashingFileStore({ directory: dir });
    const data = randomBytes(3 * 1024 * 1024 + 17);
    await store.create(newUpload('a', data.length));
    let off = await store.write(Readable.from([data.subarray(0, 1000)]), 'a', 0);
    off = await store.write(Readable.from([data.subarray(1000, 2_000_000)]), 'a', off);
    assert.equal(off, 2_000_000);
    assert.equal(store.hasRunningHash('a'), true);

    // A write that dies part-way: some bytes reach the file, the hash can no longer be trusted.
    await assert.rejects(store.write(failingAfter([data.subarray(off, off + 300_000), data.subarray(off + 300_000, off + 500_000)]), 'a', off));
    assert.equal(store.hasRunningHash('a'), false);
    const onDisk = (await stat(join(dir, 'a'))).size;
    assert.ok(onDisk >= off && onDisk <= off + 500_000);
    assert.equal(store.rehashedBytes, 0);

    // The next write re-reads exactly the stored prefix, then goes on incrementally.
    off = await store.write(Readable.from([data.subarray(onDisk, onDisk + 100)]), 'a', onDisk);
    assert.equal(store.rehashedBytes, onDisk);
    off = await store.write(Readable.from([data.subarray(off)]), 'a', off);
    assert.equal(off, data.length);
    assert.equal(store.rehashedBytes, onDisk);
    assert.equal(await store.sha256('a', data.length), sha256(data));
    assert.equal(store.rehashedBytes, onDisk, 'finalising does not re-read');
    assert.equal(store.hasRunningHash('a'), false, 'finalised hashes are released');
    // Without a running hash (e.g. asked twice), the answer comes from disk and is the same.
    assert.equal(await store.sha256('a', data.length), sha256(data));
    assert.equal(store.rehashedBytes, onDisk + data.length);

    // A write at an offset the hash does not cover (cannot happen through tus, which checks the
    // offset against the file) is re-based on the file, not trusted.
    await store.create(newUpload('b', 10));
    await store.write(Readable.from([Buffer.from('01234')]), 'b', 0);
    const before = store.rehashedBytes;
    await store.write(Readable.from([Buffer.from('X')]), 'b', 3);
    assert.equal(store.rehashedBytes, before + 3);
    assert.equal(await store.sha256('b', 4), sha256(Buffer.from('012X')));

    await store.create(newUpload('c', 10));
    await store.write(Readable.from([Buffer.from('0123')]), 'c', 0);
    assert.equal(store.hasRunningHash('c'), true);
    await store.remove('c');
    assert.equal(store.hasRunningHash('c'), false, 'termination releases the hash');
  } finally {
    await removeDir(dir);
  }
});

/**
 * Start a PATCH announcing all of `body`, send only its first `sent` bytes, wait until the server has
 * stored them, then interrupt it: by cutting the connection, or (tus's way of taking an upload over)
 * by a HEAD from the client, which makes the server stop the running PATCH.
 */
async function interruptedPatch(c: Client, s: TestServer, path: string, offset: number, body: Buffer, sent: number, how: 'disconnect' | 'head'): Promise<void> {
  const req = request(`${s.url}${path}`, {
    method: 'PATCH',
    headers: { cookie: c.cookie, 'tus-resumable': '1.0.0', 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream', 'content-length': String(body.length) },
  });
  req.on('error', () => undefined);
  req.write(body.subarray(0, sent));
  const file = s.built.storage.uploadPath(idOf(path));
  for (let i = 0; (await stat(file)).size < offset + sent; i++) {
    if (i > 1000) throw new Error('server never stored the first bytes');
    await new Promise((r) => setTimeout(r, 10));
  }
  if (how === 'head') assert.equal((await tusHead(c, path)).status, 200);
  req.destroy();
}

async function settledOffset(c: Client, path: string): Promise<number> {
  let last = -1;
  for (;;) {
    await new Promise((r) => setTimeout(r, 50));
    const off = Number((await tusHead(c, path)).headers.get('upload-offset'));
    if (off === last) return off;
    last = off;
  }
}

test('a PATCH cut off mid-way (disconnect, or a concurrent HEAD), then resumed: right hash, at most the prefix re-read once', localStorageOnly('watches the part file of the tus file store (S3 resume and re-hash: object-store.test.ts)'), async () => {
  const s = await startServer();
  try {
    const { client } = await memberOf(s, 'Demo Lab', 'interrupted', 'lab-user');
    const file = randomBytes(6 * 1024 * 1024 + 5);
    const md = partMeta(file);
    const { path } = await tusCreate(client, file.length, { ...md });
    assert.ok(path);
    await interruptedPatch(client, s, path, 0, file, 2_500_001, 'disconnect');
    const off = await settledOffset(client, path);
    assert.ok(off >= 2_500_001 && off < file.length, `stored ${off}`);
    await interruptedPatch(client, s, path, off, file.subarray(off), 1_000_003, 'head');
    const off2 = await settledOffset(client, path);
    assert.ok(off2 >= off + 1_000_003 && off2 < file.length);
    assert.equal((await stat(s.built.storage.uploadPath(idOf(path)))).size, off2);

    const done = await tusPatch(client, path, off2, file.subarray(off2));
    assert.equal(done.status, 204);
    assert.equal(done.headers.get('x-part-status'), 'complete');
    // tus ends the stream cleanly on a HEAD take-over, so the hash survives it. A disconnect usually
    // ends cleanly too (0), but if the socket error wins the race the write fails and the next PATCH
    // re-reads exactly the prefix stored at that point, once.
    const reread = s.built.uploadStore.rehashedBytes;
    assert.ok(reread === 0 || reread === off, `re-read ${reread} bytes`);
    const scanId = Number(done.headers.get('x-scan-id'));
    const stored = Buffer.from(await (await client.fetch(`/api/scans/${scanId}/file?part=0`)).arrayBuffer());
    assert.ok(stored.equals(file));
  } finally {
    await s.stop();
    await removeDir(s.config.dataDir);
  }
});

test('after a restart the stored prefix is re-hashed once, then the hash is incremental again', localStorageOnly('counts the re-hash of the tus file store (S3 re-hash after another instance: object-store.test.ts)'), async () => {
  const first = await startServer();
  const { dataDir } = first.config;
  try {
    const { client } = await memberOf(first, 'Demo Lab', 'restart-hash', 'lab-user');
    const file = randomBytes(4 * 1024 * 1024 + 3);
    const { path } = await tusCreate(client, file.length, { ...partMeta(file) });
    assert.ok(path);
    const a = 1_234_567;
    assert.equal((await tusPatch(client, path, 0, file.subarray(0, a))).status, 204);
    await first.stop();

    const second = await startServer({ dataDir, port: first.port });
    try {
      const b = 3_000_000;
      assert.equal((await tusPatch(client, path, a, file.subarray(a, b))).status, 204);
      assert.equal(second.built.uploadStore.rehashedBytes, a, 'exactly the prefix stored before the restart');
      assert.equal(second.built.uploadStore.hasRunningHash(idOf(path)), true);
      const done = await tusPatch(client, path, b, file.subarray(b));
      assert.equal(done.status, 204);
      assert.equal(done.headers.get('x-part-status'), 'complete');
      assert.equal(second.built.uploadStore.rehashedBytes, a, 'the final PATCH only finalises');
    } finally {
      await second.stop();
    }
  } finally {
    await removeDir(dataDir);
  }
});

test('bytes corrupted on the way are still caught by the incremental hash: 460 CHECKSUM_MISMATCH', async () => {
  const s = await startServer();
  try {
    const { client } = await memberOf(s, 'Demo Lab', 'mismatch', 'lab-user');
    const file = randomBytes(2 * 1024 * 1024);
    const md = partMeta(file);
    const { path } = await tusCreate(client, file.length, { ...md });
    assert.ok(path);
    const half = 1_000_000;
    assert.equal((await tusPatch(client, path, 0, file.subarray(0, half))).status, 204);
    const rest = Buffer.from(file.subarray(half));
    rest[rest.length - 1] ^= 0x01;
    const done = await tusPatch(client, path, half, rest);
    assert.equal(done.status, 460);
    assert.match(done.headers.get('content-type') ?? '', /application\/json/);
    assert.equal(((await done.json()) as any).error.code, 'CHECKSUM_MISMATCH');
    assert.equal(done.headers.get('x-part-status'), 'corrupt');
    assert.equal(s.built.uploadStore.rehashedBytes, 0);
    assert.equal(s.built.uploadStore.hasRunningHash(idOf(path)), false);
  } finally {
    await s.stop();
    await removeDir(s.config.dataDir);
  }
});

test('termination releases the running hash', async () => {
  const s = await startServer();
  try {
    const { client } = await memberOf(s, 'Demo Lab', 'terminator', 'lab-user');
    const file = randomBytes(100_000);
    const { path } = await tusCreate(client, file.length, { ...partMeta(file) });
    assert.ok(path);
    assert.equal((await tusPatch(client, path, 0, file.subarray(0, 5000))).status, 204);
    assert.equal(s.built.uploadStore.hasRunningHash(idOf(path)), true);
    assert.equal((await client.fetch(path, { method: 'DELETE', headers: { 'tus-resumable': '1.0.0' } })).status, 204);
    assert.equal(s.built.uploadStore.hasRunningHash(idOf(path)), false);
  } finally {
    await s.stop();
    await removeDir(s.config.dataDir);
  }
});
