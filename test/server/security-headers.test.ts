import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { memberOf, partMeta, removeDir, startServer, tusCreate, tusHead, tusPatch, type TestServer } from './support.ts';

/** Parsed Content-Security-Policy: directive -> sources. */
function csp(res: Response): Map<string, string[]> {
  const raw = res.headers.get('content-security-policy');
  assert.ok(raw, `${res.url}: Content-Security-Policy present`);
  const out = new Map<string, string[]>();
  for (const part of raw.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) out.set(name.toLowerCase(), sources);
  }
  return out;
}

/** The headers every response must carry, whoever produced it (Fastify route, static file, tus). */
function assertSecurityHeaders(res: Response, what: string): void {
  const h = res.headers;
  const policy = csp(res);
  assert.deepEqual(policy.get('default-src'), ["'self'"], `${what}: default-src`);
  assert.deepEqual(policy.get('script-src'), ["'self'", "'wasm-unsafe-eval'"], `${what}: scripts from us, wasm allowed`);
  assert.deepEqual(policy.get('connect-src'), ["'self'"], `${what}: connect-src`);
  assert.deepEqual(policy.get('worker-src'), ["'self'"], `${what}: worker-src`);
  assert.deepEqual(policy.get('img-src'), ["'self'", 'blob:'], `${what}: img-src`);
  // Our style sheets, plus exactly the empty one (the viewer's marker for OpenSeadragon).
  assert.deepEqual(policy.get('style-src'), ["'self'", `'sha256-${createHash('sha256').update('').digest('base64')}'`], `${what}: style-src`);
  assert.deepEqual(policy.get('object-src'), ["'none'"], `${what}: object-src`);
  assert.deepEqual(policy.get('frame-ancestors'), ["'none'"], `${what}: frame-ancestors`);
  assert.deepEqual(policy.get('base-uri'), ["'none'"], `${what}: base-uri`);
  const all = h.get('content-security-policy') ?? '';
  assert.doesNotMatch(all, /'unsafe-inline'|'unsafe-eval'|\*/, `${what}: nothing inline, no eval, no wildcard`);
  assert.equal(h.get('x-content-type-options'), 'nosniff', `${what}: nosniff`);
  assert.equal(h.get('x-frame-options'), 'DENY', `${what}: x-frame-options`);
  assert.equal(h.get('referrer-policy'), 'no-referrer', `${what}: referrer-policy`);
  assert.equal(h.get('cross-origin-opener-policy'), 'same-origin', `${what}: COOP`);
  assert.equal(h.get('cross-origin-resource-policy'), 'same-origin', `${what}: CORP`);
  assert.match(h.get('permissions-policy') ?? '', /camera=\(\)/, `${what}: permissions-policy`);
  assert.equal(h.get('access-control-allow-origin'), null, `${what}: no CORS grant to other origins`);
}

describe('security headers over plain http', () => {
  let s: TestServer;
  let publicDir: string;
  before(async () => {
    // A small app shell, so the static files and the SPA fallback are served as in production.
    publicDir = await mkdtemp(join(tmpdir(), 'wsi-shell-'));
    await writeFile(join(publicDir, 'index.html'), '<!doctype html><title>t</title><script type="module" src="/app.js"></script>');
    await writeFile(join(publicDir, 'app.js'), 'export {};');
    await mkdir(join(publicDir, 'icons'));
    s = await startServer({ publicDir, maxUploadBytes: 1024 * 1024 });
  });
  after(async () => {
    await s.stop();
    await removeDir(s.config.dataDir);
    await removeDir(publicDir);
  });

  test('the app shell, its scripts and client-side routes', async () => {
    for (const path of ['/', '/index.html', '/app.js', '/import', '/scans/12']) {
      const res = await fetch(s.url + path);
      assert.equal(res.status, 200, path);
      assertSecurityHeaders(res, path);
      assert.equal(res.headers.get('strict-transport-security'), null, `${path}: no HSTS over plain http`);
    }
  });

  test('API answers, errors and not-found', async () => {
    for (const [path, status] of [['/api/health', 200], ['/api/me', 401], ['/api/nothing-here', 404], ['/missing.png', 404]] as const) {
      const res = await fetch(s.url + path);
      assert.equal(res.status, status, path);
      assertSecurityHeaders(res, path);
    }
    // No proxy is configured here: a client's own X-Forwarded-Proto does not make it https.
    const forged = await fetch(`${s.url}/api/health`, { headers: { 'x-forwarded-proto': 'https' } });
    assertSecurityHeaders(forged, 'forged X-Forwarded-Proto');
    assert.equal(forged.headers.get('strict-transport-security'), null, 'no HSTS for a forged X-Forwarded-Proto');
    const bad = await fetch(`${s.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' });
    assert.equal(bad.status, 400);
    assertSecurityHeaders(bad, 'bad JSON');
  });

  test('tus responses: OPTIONS, creation, PATCH, HEAD, errors', async () => {
    const { client } = await memberOf(s, 'Demo Lab', 'hdr-user', 'lab-user');
    const bytes = randomBytes(2048);
    const opts = await client.fetch('/files/', { method: 'OPTIONS' });
    assertSecurityHeaders(opts, 'OPTIONS /files/');
    const { res, path } = await tusCreate(client, bytes.length, { ...partMeta(bytes) });
    assert.equal(res.status, 201);
    assertSecurityHeaders(res, 'POST /files/');
    assert.ok(path);
    const half = await tusPatch(client, path, 0, bytes.subarray(0, 1000));
    assert.equal(half.status, 204);
    assertSecurityHeaders(half, 'PATCH');
    const head = await tusHead(client, path);
    assert.equal(head.status, 200);
    assertSecurityHeaders(head, 'HEAD');
    const wrongOffset = await tusPatch(client, path, 5, bytes.subarray(5, 10));
    assert.equal(wrongOffset.status, 409);
    assertSecurityHeaders(wrongOffset, 'PATCH 409 from tus');
    const last = await tusPatch(client, path, 1000, bytes.subarray(1000));
    assert.equal(last.status, 204, await last.text());
    assertSecurityHeaders(last, 'finishing PATCH');
    const noTus = await client.fetch(path, { method: 'HEAD' });
    assert.equal(noTus.status, 412);
    assertSecurityHeaders(noTus, 'HEAD without Tus-Resumable');
    const ghost = await tusHead(client, '/files/0123456789abcdef0123456789abcdef');
    assert.equal(ghost.status, 404);
    assertSecurityHeaders(ghost, 'unknown upload');
  });
});

describe('HSTS: only when the request came over TLS', () => {
  test('behind the configured proxy: HSTS on https requests (API and tus), not on http ones', async () => {
    const s = await startServer({ trustProxy: ['127.0.0.1'] });
    try {
      const https = await fetch(`${s.url}/api/health`, { headers: { 'x-forwarded-proto': 'https' } });
      assert.equal(https.headers.get('strict-transport-security'), 'max-age=31536000; includeSubDomains');
      const tus = await fetch(`${s.url}/files/`, { method: 'OPTIONS', headers: { 'x-forwarded-proto': 'https' } });
      assert.equal(tus.headers.get('strict-transport-security'), 'max-age=31536000; includeSubDomains', 'tus responses too');
      const http = await fetch(`${s.url}/api/health`, { headers: { 'x-forwarded-proto': 'http' } });
      assert.equal(http.headers.get('strict-transport-security'), null);
      const direct = await fetch(`${s.url}/api/health`);
      assert.equal(direct.headers.get('strict-transport-security'), null);
    } finally {
      await s.stop();
      await removeDir(s.config.dataDir);
    }
  });
});
