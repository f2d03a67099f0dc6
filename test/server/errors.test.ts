import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, adminClient, removeDir, startServer, type TestServer } from './support.ts';

let s: TestServer;
let publicDir: string;
before(async () => {
  publicDir = await mkdtemp(join(tmpdir(), 'wsi-public-'));
  await writeFile(join(publicDir, 'index.html'), '<!doctype html><title>shell</title>');
  await mkdir(join(publicDir, 'assets'));
  await writeFile(join(publicDir, 'assets', 'app.js'), 'console.log(1)');
  s = await startServer({ publicDir });
});
after(async () => {
  await s.stop();
  await removeDir(s.config.dataDir);
  await removeDir(publicDir);
});

async function expectJsonError(res: Response, status: number, code?: string): Promise<void> {
  assert.equal(res.status, status);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const text = await res.text();
  assert.doesNotMatch(text, /\bat [\w.<>]+ \(|node_modules|\.ts:\d+|stack/i, 'no stack trace');
  const body = JSON.parse(text);
  assert.equal(typeof body.error.message, 'string');
  assert.deepEqual(Object.keys(body), ['error']);
  if (code) assert.equal(body.error.code, code);
}

test('bad requests get 4xx JSON errors without stack traces', async () => {
  const c = await adminClient(s);
  await expectJsonError(await c.fetch('/api/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"username":' }), 400);
  await expectJsonError(await c.fetch('/api/login', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<a/>' }), 415);
  await expectJsonError(await c.json('/api/login', 'POST', ['not', 'an', 'object']), 400, 'BAD_REQUEST');
  await expectJsonError(await c.fetch('/api/scans/abc'), 404, 'NOT_FOUND');
  await expectJsonError(await c.fetch('/api/scans/99999'), 404, 'NOT_FOUND');
  await expectJsonError(await c.fetch('/api/nope'), 404, 'NOT_FOUND');
  await expectJsonError(await c.fetch('/api/scans?limit=-5'), 400, 'BAD_REQUEST');
  await expectJsonError(await c.json('/api/me/lab', 'POST', { labId: 'x' }), 400, 'BAD_REQUEST');
  await expectJsonError(await c.fetch('/api/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'a', password: 'x'.repeat(2_000_000) }) }), 413);
  await expectJsonError(await new Client(s.url).fetch('/api/scans'), 401, 'UNAUTHENTICATED');
  await expectJsonError(await c.fetch('/files/zzz', { method: 'PATCH', headers: { 'tus-resumable': '1.0.0', 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' }, body: 'x' }), 404, 'NOT_FOUND');
  await expectJsonError(await c.fetch('/files/a/b', { method: 'DELETE', headers: { 'tus-resumable': '1.0.0' } }), 404, 'NOT_FOUND');
  // Protocol errors @tus/server would answer in text/plain.
  const noVersion = await c.fetch('/files/', { method: 'POST', headers: { 'upload-length': '10' } });
  assert.equal(noVersion.headers.get('tus-version'), '1.0.0');
  await expectJsonError(noVersion, 412, 'TUS_RESUMABLE_REQUIRED');
  const put = await c.fetch('/files/', { method: 'PUT', headers: { 'tus-resumable': '1.0.0' }, body: 'x' });
  assert.match(put.headers.get('allow') ?? '', /PATCH/);
  await expectJsonError(put, 405, 'METHOD_NOT_ALLOWED');
});

test('the app shell is served, client-side routes fall back to index.html, /api and assets do not', async () => {
  const root = await fetch(`${s.url}/`);
  assert.equal(root.status, 200);
  assert.match(await root.text(), /<title>shell<\/title>/);
  const deep = await fetch(`${s.url}/scans/12`);
  assert.equal(deep.status, 200);
  assert.match(deep.headers.get('content-type') ?? '', /text\/html/);
  assert.match(await deep.text(), /shell/);
  assert.equal((await fetch(`${s.url}/assets/app.js`)).status, 200);
  await expectJsonError(await fetch(`${s.url}/assets/missing.js`), 404);
  await expectJsonError(await fetch(`${s.url}/api/unknown`), 404);
  assert.equal(root.headers.get('x-content-type-options'), 'nosniff');
});
