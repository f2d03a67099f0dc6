import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { ERRORS } from '@tus/server';
import { clientErrorAnswer } from '../../src/server/tus/edge-cases.ts';
import { type TerminableFileStore } from '../../src/server/tus/terminable-store.ts';
import { memberOf, partMeta, removeDir, startServer, tusCreate, tusHead, tusPatch, type Client, type TestServer, uploadStatusBecomes, onS3 } from './support.ts';

let s: TestServer;
let user: { client: Client; labId: number };
before(async () => {
  s = await startServer({ maxUploadBytes: 64 * 1024 * 1024 });
  user = await memberOf(s, 'Demo Lab', 'edge-user', 'lab-user');
});
after(async () => {
  await s.stop();
  await removeDir(s.config.dataDir);
});

const store = (): TerminableFileStore => s.built.uploadStore as TerminableFileStore;
const idOf = (path: string): string => path.split('/').pop()!;

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * A PATCH whose body is sent in pieces, on a raw HTTP request, so a test can act while it is
 * still running; it keeps sending (as a real client does) until the server answers.
 */
function slowPatch(path: string, cookie: string, bytes: Uint8Array): { answer: Promise<Answer>; stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let sent = 0;
  const answer = new Promise<Answer>((resolve, reject) => {
    const req = request(s.url + path, {
      method: 'PATCH',
      headers: { cookie, 'tus-resumable': '1.0.0', 'upload-offset': '0', 'content-type': 'application/offset+octet-stream', 'content-length': String(bytes.length) },
    });
    req.on('response', (res) => {
      clearInterval(timer);
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', (e) => {
      clearInterval(timer);
      reject(e);
    });
    const piece = 4096;
    const send = () => {
      // Never the last piece: the upload must not complete on its own.
      if (sent + piece < bytes.length) {
        req.write(bytes.subarray(sent, sent + piece));
        sent += piece;
      }
    };
    send();
    timer = setInterval(send, 20);
  });
  return { answer, stop: () => clearInterval(timer) };
}

test('a DELETE during a PATCH ends that PATCH with 410 (no 5xx, no 204), and the upload is gone', async () => {
  const bytes = randomBytes(8 * 1024 * 1024);
  const { res, path } = await tusCreate(user.client, bytes.length, { ...partMeta(bytes) });
  assert.equal(res.status, 201);
  const id = idOf(path!);
  const patch = slowPatch(path!, user.client.cookie, bytes);
  try {
    await until(() => store().isWriting(id), 'the PATCH to be writing');
    const del = await user.client.fetch(path!, { method: 'DELETE', headers: { 'tus-resumable': '1.0.0' } });
    assert.equal(del.status, 204, await del.text());
    const answer = await patch.answer;
    assert.equal(answer.status, 410, `PATCH answered ${answer.status} ${answer.body}`);
    assert.match(String(answer.headers['content-type']), /application\/json/);
    const err = (JSON.parse(answer.body) as { error: { code: string; message: string } }).error;
    assert.equal(err.code, 'UPLOAD_TERMINATED');
    assert.match(err.message, /cancelled/);
    assert.equal(answer.headers['upload-offset'], undefined, 'no offset of a removed upload');
  } finally {
    patch.stop();
  }
  assert.equal(store().isWriting(id), false);
  assert.equal((await tusHead(user.client, path!)).status, 404);
  assert.equal(await uploadStatusBecomes(s.built, id, 'terminated'), 'terminated');
  if (onS3) assert.equal(await s.built.storage.objects.exists(`uploads/${id}`), false, 'the bytes are removed');
  else await assert.rejects(access(join(s.built.storage.uploadsDir, id)), 'the bytes are removed');
  // The server is fine afterwards: a new upload of the same slide goes through.
  const again = await tusCreate(user.client, 1000, { ...partMeta(bytes.subarray(0, 1000)) });
  assert.equal(again.res.status, 201);
  assert.equal((await tusPatch(user.client, again.path!, 0, bytes.subarray(0, 1000))).status, 204);
});

test('a PATCH of a finished upload never finishes it again: zero bytes -> 204 at its length; other offsets 409; more bytes 413', async () => {
  const bytes = randomBytes(50_000);
  const md = partMeta(bytes);
  const { res, path } = await tusCreate(user.client, bytes.length, { ...md });
  assert.equal(res.status, 201);
  const finish = await tusPatch(user.client, path!, 0, bytes);
  assert.equal(finish.status, 204);
  assert.equal(finish.headers.get('x-part-status'), 'complete');
  const scanId = finish.headers.get('x-scan-id');
  const id = idOf(path!);
  const row = (await s.built.repos.uploads.byIdForAccessCheck(id))!;
  assert.equal(row.status, 'complete');
  const files = await s.built.repos.scans.files(user.labId, Number(scanId));
  assert.equal(files.length, 1);
  const rehashed = store().rehashedBytes;

  for (let i = 0; i < 3; i++) {
    const zero = await tusPatch(user.client, path!, bytes.length, new Uint8Array(0));
    assert.equal(zero.status, 204, await zero.text());
    assert.equal(zero.headers.get('upload-offset'), String(bytes.length));
    assert.equal(zero.headers.get('tus-resumable'), '1.0.0');
    assert.equal(zero.headers.get('x-scan-id'), scanId);
  }
  const after = (await s.built.repos.uploads.byIdForAccessCheck(id))!;
  assert.equal(after.status, 'complete', 'the outcome is not rewritten (a re-run records "duplicate")');
  assert.equal(after.finishedAt, row.finishedAt, 'finish time unchanged');
  assert.deepEqual(await s.built.repos.scans.files(user.labId, Number(scanId)), files, 'scan files unchanged');
  assert.equal(await s.built.storage.size(files[0]!.path), files[0]!.size, 'the stored part is still there');
  assert.equal(store().rehashedBytes, rehashed, 'nothing re-read to hash it again');

  const early = await tusPatch(user.client, path!, 10, bytes.subarray(10, 20));
  assert.equal(early.status, 409);
  assert.equal(early.headers.get('upload-offset'), String(bytes.length));
  assert.equal(((await early.json()) as { error: { code: string } }).error.code, 'OFFSET_MISMATCH');
  const more = await tusPatch(user.client, path!, bytes.length, randomBytes(100));
  assert.equal(more.status, 413);
  assert.equal(((await more.json()) as { error: { code: string } }).error.code, 'UPLOAD_COMPLETE');
  const noOffset = await user.client.fetch(path!, { method: 'PATCH', headers: { 'tus-resumable': '1.0.0', 'content-type': 'application/offset+octet-stream' } });
  assert.equal(noOffset.status, 400);
  assert.equal((await s.built.repos.uploads.byIdForAccessCheck(id))!.status, 'complete');
  // The scan is still whole: its part was neither removed nor replaced.
  const scan = (await (await user.client.fetch(`/api/scans/${scanId}`)).json()) as { scan: { status: string } };
  assert.notEqual(scan.scan.status, 'uploading');
});

test('Upload-Concat (parallel uploads) is answered 400 with the tus reason, in JSON, and creates nothing', async () => {
  const labId = user.labId;
  const count = async () => Number((await s.built.repos.db.kysely.selectFrom('uploads').select((eb) => eb.fn.countAll().as('n')).where('lab_id', '=', labId).executeTakeFirstOrThrow()).n);
  const before = await count();
  for (const concat of ['partial', 'final;/files/a /files/b']) {
    const r = await user.client.fetch('/files/', { method: 'POST', headers: { 'tus-resumable': '1.0.0', 'upload-concat': concat, 'upload-length': '10' } });
    assert.equal(r.status, 400, concat);
    assert.match(r.headers.get('content-type') ?? '', /application\/json/);
    const err = ((await r.json()) as { error: { code: string; message: string } }).error;
    assert.equal(err.code, 'UNSUPPORTED_EXTENSION');
    assert.match(err.message, /Concatenation extension is not/);
  }
  assert.equal(await count(), before);
  const opts = await user.client.fetch('/files/', { method: 'OPTIONS' });
  assert.doesNotMatch(opts.headers.get('tus-extension') ?? '', /concatenation/, 'not announced either');
});

test('terminating an upload whose bytes are all in is a conflict (409), not a 4xx/5xx from tus', () => {
  const a = clientErrorAnswer(ERRORS.INVALID_TERMINATION);
  assert.equal(a?.status_code, 409);
  assert.equal((JSON.parse(a!.body) as { error: { code: string } }).error.code, 'UPLOAD_COMPLETE');
  assert.equal(clientErrorAnswer(ERRORS.FILE_WRITE_ERROR), undefined, 'server faults are not turned into client errors');
  assert.equal(clientErrorAnswer(new Error('x')), undefined);
});
