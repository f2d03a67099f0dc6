import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { judgeOrigin } from '../../src/server/http/same-origin.ts';
import { adminPassword, encodeMetadata, memberOf, partMeta, removeDir, startServer, tusCreate, tusHead, tusPatch, type TestServer } from './support.ts';

describe('judgeOrigin (the rule)', () => {
  const host = 'wsi.lab.example:8443';
  const cases: [string, Parameters<typeof judgeOrigin>[0], boolean][] = [
    ['GET is never refused', { method: 'GET', secFetchSite: 'cross-site', origin: 'https://evil.example', host }, true],
    ['HEAD/OPTIONS likewise', { method: 'OPTIONS', secFetchSite: 'cross-site', origin: undefined, host }, true],
    ['same-origin fetch', { method: 'POST', secFetchSite: 'same-origin', origin: `https://${host}`, host }, true],
    ['Sec-Fetch-Site decides even if Origin looks right', { method: 'POST', secFetchSite: 'cross-site', origin: `https://${host}`, host }, false],
    ['same-site (a sibling host) is not same-origin', { method: 'DELETE', secFetchSite: 'same-site', origin: 'https://other.lab.example', host }, false],
    ['none (user-typed navigation) never changes state', { method: 'POST', secFetchSite: 'none', origin: undefined, host }, false],
    ['cross-site PATCH', { method: 'PATCH', secFetchSite: 'cross-site', origin: undefined, host }, false],
    ['no Sec-Fetch-Site, Origin of this host', { method: 'PUT', secFetchSite: undefined, origin: `http://${host}`, host }, true],
    ['host comparison ignores case', { method: 'PUT', secFetchSite: undefined, origin: 'https://WSI.lab.example:8443', host }, true],
    ['no Sec-Fetch-Site, Origin of another site', { method: 'POST', secFetchSite: undefined, origin: 'https://evil.example', host }, false],
    ['another port is another origin', { method: 'POST', secFetchSite: undefined, origin: 'https://wsi.lab.example:9000', host }, false],
    ['Origin: null (sandboxed frame, data: URL)', { method: 'POST', secFetchSite: undefined, origin: 'null', host }, false],
    ['Origin that is not a web origin', { method: 'POST', secFetchSite: undefined, origin: 'file://', host }, false],
    ['neither header: a program (CLI, curl) holding its own cookie', { method: 'DELETE', secFetchSite: undefined, origin: undefined, host }, true],
  ];
  for (const [name, facts, allowed] of cases) {
    test(name, () => assert.equal(judgeOrigin(facts).allowed, allowed));
  }
});

/** Headers a browser sends on a request another site's page makes (never the same-origin ones). */
const crossSite = { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' };
const sameSite = { 'sec-fetch-site': 'same-site', origin: 'https://intranet.example' };
const oldBrowserCrossSite = { origin: 'https://evil.example' };

async function assertRefused(res: Response, what: string): Promise<void> {
  assert.equal(res.status, 403, what);
  const body = (await res.json()) as { error: { code: string; message: string } };
  assert.equal(body.error.code, 'CROSS_SITE_REQUEST', what);
  assert.match(body.error.message, /another site/, what);
}

describe('state-changing routes against a real server', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ maxUploadBytes: 1024 * 1024 });
  });
  after(async () => {
    await s.stop();
    await removeDir(s.config.dataDir);
  });

  test('every registered POST/PUT/PATCH/DELETE route refuses a cross-site request before anything else', async () => {
    const routes = stateChangingRoutes(s.built.app.printRoutes({ commonPrefix: false }));
    assert.ok(routes.length >= 10, `found the routes (${routes.length})`);
    for (const { method, path } of ['/files', '/files/*'].flatMap((p) => ['POST', 'PATCH', 'DELETE'].map((m) => ({ method: m, path: p }))).concat(routes)) {
      // Parameters as plausible values; the check must come before routing, auth and validation.
      const url = s.url + path.replace(/:[A-Za-z]+/g, '1').replace('*', '0123456789abcdef0123456789abcdef');
      for (const headers of [crossSite, sameSite, oldBrowserCrossSite]) {
        const res = await fetch(url, { method, headers: { ...headers, 'content-type': 'application/json', 'tus-resumable': '1.0.0' }, body: '{}' });
        await assertRefused(res, `${method} ${path} ${JSON.stringify(headers)}`);
      }
    }
  });

  test('sign-in: cross-site refused (no session cookie set); same-origin and CLI-style accepted', async () => {
    const body = JSON.stringify({ username: 'admin', password: adminPassword });
    const evil = await fetch(`${s.url}/api/login`, { method: 'POST', headers: { ...crossSite, 'content-type': 'application/json' }, body });
    await assertRefused(evil, 'cross-site login');
    assert.equal(evil.headers.get('set-cookie'), null, 'no session from a cross-site sign-in');
    const host = new URL(s.url).host;
    for (const headers of [{ 'sec-fetch-site': 'same-origin', origin: s.url }, { origin: `http://${host}` }, {}] as Record<string, string>[]) {
      const ok = await fetch(`${s.url}/api/login`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body });
      assert.equal(ok.status, 200, JSON.stringify(headers));
      assert.match(ok.headers.get('set-cookie') ?? '', /SameSite=Strict/, 'the rule for header-less clients relies on a SameSite=Strict cookie');
    }
  });

  test('a lab setting: cross-site PUT changes nothing, same-origin PUT works', async () => {
    const admin = await memberOf(s, 'Flag Lab', 'flag-admin', 'lab-admin', []);
    const put = (headers: Record<string, string>) =>
      admin.client.fetch(`/api/labs/${admin.labId}/features`, { method: 'PUT', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ features: ['bulk-import'] }) });
    await assertRefused(await put(crossSite), 'cross-site PUT');
    await assertRefused(await put(sameSite), 'same-site PUT');
    assert.deepEqual(await s.built.repos.labs.features(admin.labId), [], 'flag unchanged');
    // Reads are not this check's business (SameSite=Strict keeps the cookie off them anyway).
    assert.equal((await admin.client.fetch('/api/me', { headers: crossSite })).status, 200);
    const ok = await put({ 'sec-fetch-site': 'same-origin', origin: s.url });
    assert.equal(ok.status, 200);
    assert.deepEqual(await s.built.repos.labs.features(admin.labId), ['bulk-import']);
  });

  test('tus: cross-site POST, PATCH and DELETE are refused and change nothing; same-origin ones work', async () => {
    const { client } = await memberOf(s, 'Demo Lab', 'tus-csrf', 'lab-user');
    const bytes = randomBytes(4096);
    const md = partMeta(bytes);
    const before = (await s.built.repos.uploads.forSlide((await s.built.repos.labs.byName('Demo Lab'))!.id, md.slideId)).length;
    const evilCreate = await client.fetch('/files/', { method: 'POST', headers: { ...crossSite, 'tus-resumable': '1.0.0', 'upload-length': String(bytes.length) } });
    await assertRefused(evilCreate, 'cross-site tus POST');
    assert.equal((await s.built.repos.uploads.forSlide((await s.built.repos.labs.byName('Demo Lab'))!.id, md.slideId)).length, before);

    // A same-origin creation and first chunk, as the app sends them.
    const same = { 'sec-fetch-site': 'same-origin', origin: s.url };
    const created = await client.fetch('/files/', { method: 'POST', headers: { ...same, 'tus-resumable': '1.0.0', 'upload-length': String(bytes.length), 'upload-metadata': encodeMetadata({ ...md }) } });
    assert.equal(created.status, 201, await created.clone().text());
    const path = new URL(created.headers.get('location')!, s.url).pathname;
    const first = await client.fetch(path, { method: 'PATCH', headers: { ...same, 'tus-resumable': '1.0.0', 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' }, body: bytes.subarray(0, 1000) });
    assert.equal(first.status, 204);

    const evilPatch = await client.fetch(path, { method: 'PATCH', headers: { ...crossSite, 'tus-resumable': '1.0.0', 'upload-offset': '1000', 'content-type': 'application/offset+octet-stream' }, body: bytes.subarray(1000) });
    await assertRefused(evilPatch, 'cross-site PATCH');
    const evilDelete = await client.fetch(path, { method: 'DELETE', headers: { ...crossSite, 'tus-resumable': '1.0.0' } });
    await assertRefused(evilDelete, 'cross-site DELETE');
    const head = await tusHead(client, path);
    assert.equal(head.status, 200, 'still there');
    assert.equal(head.headers.get('upload-offset'), '1000', 'not advanced');

    // Header-less (CLI) PATCH finishes it; a same-origin DELETE of another upload works.
    assert.equal((await tusPatch(client, path, 1000, bytes.subarray(1000))).status, 204);
    const other = await tusCreate(client, bytes.length, { ...partMeta(bytes) });
    assert.equal(other.res.status, 201);
    const del = await client.fetch(other.path!, { method: 'DELETE', headers: { ...same, 'tus-resumable': '1.0.0' } });
    assert.equal(del.status, 204);
    assert.equal((await tusHead(client, other.path!)).status, 404);
  });
});

/**
 * POST/PUT/PATCH/DELETE routes from Fastify's route tree (printRoutes with commonPrefix false
 * prints one full path per line followed by its methods), so a route added later is covered
 * without editing this test.
 */
function stateChangingRoutes(tree: string): { method: string; path: string }[] {
  const out: { method: string; path: string }[] = [];
  for (const line of tree.split('\n')) {
    const m = /(\/\S*) \(([A-Z, ]+)\)/.exec(line);
    if (!m) continue;
    for (const method of m[2].split(',').map((x) => x.trim())) {
      if (['POST', 'PUT', 'PATCH', 'DELETE'].includes(method)) out.push({ method, path: m[1] });
    }
  }
  return out;
}
