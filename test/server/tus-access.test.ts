import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Client, adminClient, memberOf, partMeta, removeDir, startServer, tusCreate, tusHead, tusPatch, type TestServer } from './support.ts';

let s: TestServer;
before(async () => {
  s = await startServer({ maxUploadBytes: 1024 * 1024 });
});
after(async () => {
  await s.stop();
  await removeDir(s.config.dataDir);
});

const bytes = randomBytes(4096);

test('not signed in: 401 JSON, nothing created', async () => {
  const { res } = await tusCreate(new Client(s.url), bytes.length, { ...partMeta(bytes) });
  assert.equal(res.status, 401);
  assert.equal((await res.json() as any).error.code, 'UNAUTHENTICATED');
});

test('a viewer cannot create uploads (403); a lab-user of the same lab can (201)', async () => {
  const viewer = await memberOf(s, 'Demo Lab', 'viewer1', 'viewer');
  const v = await tusCreate(viewer.client, bytes.length, { ...partMeta(bytes) });
  assert.equal(v.res.status, 403);
  assert.equal((await v.res.json() as any).error.code, 'FORBIDDEN');
  const me = (await (await viewer.client.fetch('/api/me')).json()) as any;
  assert.equal(me.canImport, false);

  const user = await memberOf(s, 'Demo Lab', 'user1', 'lab-user');
  const u = await tusCreate(user.client, bytes.length, { ...partMeta(bytes) });
  assert.equal(u.res.status, 201);
  assert.match(u.path ?? '', /^\/files\/[0-9a-f]{32}$/);
  assert.equal(u.res.headers.get('tus-resumable'), '1.0.0');
  const me2 = (await (await user.client.fetch('/api/me')).json()) as any;
  assert.equal(me2.canImport, true);
});

test('bulk-import flag off: canImport false and POST /files is 403; turning it on (lab admin) allows it', async () => {
  const { client, labId } = await memberOf(s, 'No Import Lab', 'noimport', 'lab-user', []);
  const me = (await (await client.fetch('/api/me')).json()) as any;
  assert.equal(me.canImport, false);
  assert.deepEqual(me.labs.find((l: any) => l.id === labId).features, []);
  const r = await tusCreate(client, bytes.length, { ...partMeta(bytes) });
  assert.equal(r.res.status, 403);
  assert.equal((await r.res.json() as any).error.code, 'FEATURE_DISABLED');

  // A lab-user may not change flags; the lab's admin may.
  assert.equal((await client.json(`/api/labs/${labId}/features`, 'PUT', { features: ['bulk-import'] })).status, 403);
  const admin = await memberOf(s, 'No Import Lab', 'noimport-admin', 'lab-admin', []);
  const put = await admin.client.json(`/api/labs/${labId}/features`, 'PUT', { features: ['bulk-import'] });
  assert.equal(put.status, 200);
  assert.deepEqual(await put.json(), { labId, features: ['bulk-import'] });
  assert.equal((await tusCreate(client, bytes.length, { ...partMeta(bytes) })).res.status, 201);
  assert.equal((await admin.client.json(`/api/labs/${labId}/features`, 'PUT', { features: ['teleport'] })).status, 400);
});

test('lab isolation: a user of lab B gets 404 on HEAD/PATCH/DELETE/GET of lab A\'s upload; the owner does not', async () => {
  const a = await memberOf(s, 'Lab A', 'alice', 'lab-user');
  const b = await memberOf(s, 'Lab B', 'bob', 'lab-admin');
  const { res, path } = await tusCreate(a.client, bytes.length, { ...partMeta(bytes) });
  assert.equal(res.status, 201);
  assert.ok(path);
  assert.equal((await tusPatch(a.client, path, 0, bytes.subarray(0, 1000))).status, 204);

  const head = await tusHead(b.client, path);
  assert.equal(head.status, 404);
  assert.equal(head.headers.get('upload-offset'), null);
  const patch = await tusPatch(b.client, path, 1000, bytes.subarray(1000));
  assert.equal(patch.status, 404);
  assert.equal((await patch.json() as any).error.code, 'NOT_FOUND');
  const del = await b.client.fetch(path, { method: 'DELETE', headers: { 'tus-resumable': '1.0.0' } });
  assert.equal(del.status, 404);
  assert.equal((await b.client.fetch(path)).status, 404);
  // Same answer as for an id that never existed: nothing to learn.
  const ghost = await tusHead(b.client, '/files/0123456789abcdef0123456789abcdef');
  assert.equal(ghost.status, 404);

  // Bob's attempts changed nothing: Alice still sees offset 1000 and can finish.
  const mine = await tusHead(a.client, path);
  assert.equal(mine.status, 200);
  assert.equal(mine.headers.get('upload-offset'), '1000');
  // A viewer of lab A (not the creator) cannot see it either.
  const v = await memberOf(s, 'Lab A', 'alice-viewer', 'viewer');
  assert.equal((await tusHead(v.client, path)).status, 404);
  // Termination by the owner works and the upload is gone.
  const term = await a.client.fetch(path, { method: 'DELETE', headers: { 'tus-resumable': '1.0.0' } });
  assert.equal(term.status, 204);
  assert.equal((await tusHead(a.client, path)).status, 404);
});

test('bad Upload-Metadata is rejected with 400 and a JSON error naming the key', async () => {
  const { client } = await memberOf(s, 'Demo Lab', 'meta-user', 'lab-user');
  const good = partMeta(bytes);
  const cases: [Record<string, string | number>, RegExp][] = [
    [{ ...good, slideId: 'not-a-uuid' }, /slideId/],
    [{ ...good, sha256: 'abc' }, /sha256/],
    [{ ...good, part: 2, parts: 2 }, /part/],
    [{ ...good, parts: 0 }, /parts/],
    [{ ...good, mode: 'raw' }, /mode/],
    [{ ...good, filename: '../etc/passwd' }, /filename/],
    [{ ...good, format: 'Not A Format!' }, /format/],
    [{ ...good, batchId: '' }, /batchId/],
  ];
  for (const [md, re] of cases) {
    const { res } = await tusCreate(client, bytes.length, md);
    assert.equal(res.status, 400, JSON.stringify(md));
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    const body = (await res.json()) as any;
    assert.equal(body.error.code, 'BAD_METADATA');
    assert.match(body.error.message, re);
  }
  const { filename: _omit, ...noName } = good;
  assert.equal((await tusCreate(client, bytes.length, noName)).res.status, 400);
});

test('uploads over the configured maximum size are refused with 413', async () => {
  const { client } = await memberOf(s, 'Demo Lab', 'big-user', 'lab-user');
  const { res } = await tusCreate(client, 1024 * 1024 + 1, { ...partMeta(bytes) });
  assert.equal(res.status, 413);
  const opts = await client.fetch('/files/', { method: 'OPTIONS' });
  assert.equal(opts.headers.get('tus-max-size'), String(1024 * 1024));
  assert.match(opts.headers.get('tus-extension') ?? '', /creation/);
  assert.match(opts.headers.get('tus-extension') ?? '', /termination/);
  assert.match(opts.headers.get('tus-extension') ?? '', /expiration/);
});

test('a lab admin lists and adds lab members; others cannot see another lab\'s members', async () => {
  const admin = await adminClient(s);
  const demo = (await s.built.repos.labs.byName('Demo Lab'))!;
  const list = (await (await admin.fetch(`/api/labs/${demo.id}/users`)).json()) as any;
  assert.ok(list.users.some((u: any) => u.username === 'admin' && u.role === 'lab-admin'));
  const add = await admin.json(`/api/labs/${demo.id}/users`, 'POST', { username: 'newbie', displayName: 'New Bie', password: 'newbie-password-1', role: 'viewer' });
  assert.equal(add.status, 201);
  assert.deepEqual(((await add.json()) as any).user.role, 'viewer');
  const newbie = new Client(s.url);
  assert.equal((await newbie.login('newbie', 'newbie-password-1')).status, 200);
  // An existing account's password cannot be set from here; existing users join by invitation
  // (or a platform admin adds them directly: see accounts.test.ts).
  assert.equal((await admin.json(`/api/labs/${demo.id}/users`, 'POST', { username: 'newbie', role: 'lab-user', password: 'takeover-attempt' })).status, 409);
  assert.equal((await admin.json(`/api/labs/${demo.id}/users`, 'POST', { username: 'x2', role: 'god', password: 'long-enough-pw' })).status, 400);
  const labB = await s.built.repos.labs.byName('Lab B') ?? await s.built.repos.labs.create('Lab B');
  // The first admin is the platform admin (every lab); a lab admin of Demo Lab only sees Demo Lab.
  assert.equal((await admin.fetch(`/api/labs/${labB.id}/users`)).status, 200);
  const demoAdmin = await memberOf(s, 'Demo Lab', 'demo-admin', 'lab-admin');
  assert.equal((await demoAdmin.client.fetch(`/api/labs/${labB.id}/users`)).status, 404);
  const user = await memberOf(s, 'Demo Lab', 'plain-user', 'lab-user');
  assert.equal((await user.client.fetch(`/api/labs/${demo.id}/users`)).status, 403);
});
