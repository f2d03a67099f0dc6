import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword, verifyPassword, generatePassword } from '../../src/server/auth/password.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, adminPassword, memberOf, removeDir, startServer, type TestServer } from './support.ts';

let s: TestServer;
before(async () => {
  s = await startServer();
});
after(async () => {
  await s.stop();
  await removeDir(s.config.dataDir);
});

test('scrypt hashes are salted and verify only the right password', async () => {
  const a = await hashPassword('correct horse');
  const b = await hashPassword('correct horse');
  assert.notEqual(a, b);
  assert.match(a, /^scrypt\$32768\$8\$1\$/);
  assert.equal(await verifyPassword('correct horse', a), true);
  assert.equal(await verifyPassword('correct horsf', a), false);
  assert.equal(await verifyPassword('x', 'not-a-hash'), false);
  const p = generatePassword();
  assert.equal(p.length, 20);
  assert.notEqual(p, generatePassword());
});

test('login sets an HttpOnly SameSite=Strict session cookie; /api/me describes user, labs and import right', async () => {
  const c = new Client(s.url);
  const r = await c.login('admin', adminPassword);
  assert.equal(r.status, 200);
  const setCookie = r.headers.get('set-cookie') ?? '';
  assert.match(setCookie, /^wsi_session=[A-Za-z0-9_-]{40,};/);
  assert.match(setCookie, /HttpOnly/);
  assert.match(setCookie, /SameSite=Strict/);
  assert.match(setCookie, /Path=\//);
  assert.doesNotMatch(setCookie, /Secure/, 'plain http: no Secure flag in auto mode');
  const me = (await (await c.fetch('/api/me')).json()) as Record<string, any>;
  assert.deepEqual(me.user, { id: me.user.id, username: 'admin', displayName: 'Administrator' });
  assert.equal(me.labs.length, 1);
  assert.deepEqual(me.labs[0], { id: me.currentLabId, name: 'Demo Lab', role: 'lab-admin', features: ['bulk-import'] });
  assert.equal(me.canImport, true);
});

test('wrong password and unknown user give the same 401', async () => {
  const c = new Client(s.url);
  const a = await c.login('admin', 'wrong');
  const b = await c.login('nobody', 'wrong');
  assert.equal(a.status, 401);
  assert.equal(b.status, 401);
  assert.deepEqual(await a.json(), await b.json());
  assert.equal(a.headers.get('set-cookie'), null);
  assert.equal((await c.fetch('/api/me')).status, 401);
});

test('logout ends the session on the server (the old cookie no longer works)', async () => {
  const c = new Client(s.url);
  await c.login('admin', adminPassword);
  const stolen = c.cookie;
  const r = await c.json('/api/logout', 'POST');
  assert.equal(r.status, 204);
  assert.equal(c.cookie, '');
  const replay = await fetch(`${s.url}/api/me`, { headers: { cookie: stolen } });
  assert.equal(replay.status, 401);
});

test('repeated failures slow sign-in down (429 + Retry-After), but the right password is accepted once the short backoff has passed', async () => {
  const { client } = await memberOf(s, 'Demo Lab', 'throttled', 'lab-user');
  await client.json('/api/logout', 'POST');
  // Five wrong passwords from this address, waiting out each backoff as a (slow) guesser would.
  const statuses: number[] = [];
  for (let failures = 0; failures < 5; ) {
    const r = await client.login('throttled', 'bad');
    statuses.push(r.status);
    if (r.status === 401) failures++;
    else {
      assert.equal(r.status, 429);
      await sleep(Number(r.headers.get('retry-after')) * 1000);
    }
  }
  // The first three are typing mistakes: answered at once.
  assert.deepEqual(statuses.slice(0, 3), [401, 401, 401]);
  // Inside the backoff even the right password is not checked (a throttled guess learns nothing)…
  const early = await client.login('throttled', 'pw-throttled-long-enough');
  assert.equal(early.status, 429);
  const wait = Number(early.headers.get('retry-after'));
  assert.ok(wait > 0 && wait <= 2, `a short backoff after five failures, not a lockout (Retry-After ${wait})`);
  assert.match(((await early.json()) as { error: { message: string } }).error.message, /Try again in \d+ seconds?/);
  // …and once it has passed, the real user gets in (the old throttle answered 429 for 15 minutes).
  await sleep(wait * 1000);
  assert.equal((await client.login('throttled', 'pw-throttled-long-enough')).status, 200);
  // Success forgets the failures: the next typo is free again.
  await client.json('/api/logout', 'POST');
  assert.equal((await client.login('throttled', 'bad')).status, 401);
  assert.equal((await client.login('throttled', 'pw-throttled-long-enough')).status, 200);
});

test('switching the current lab: only to labs the user belongs to', async () => {
  const { client, labId } = await memberOf(s, 'Lab Switch', 'switcher', 'viewer', []);
  const demo = (await s.built.repos.labs.byName('Demo Lab'))!;
  await s.built.repos.labs.setRole(demo.id, (await s.built.repos.users.credentialsByUsername('switcher'))!.id, 'lab-user');
  let me = (await (await client.fetch('/api/me')).json()) as Record<string, any>;
  assert.equal(me.currentLabId, labId);
  assert.equal(me.canImport, false);
  me = (await (await client.json('/api/me/lab', 'POST', { labId: demo.id })).json()) as Record<string, any>;
  assert.equal(me.currentLabId, demo.id);
  assert.equal(me.canImport, true);
  // Remembered in the session.
  me = (await (await client.fetch('/api/me')).json()) as Record<string, any>;
  assert.equal(me.currentLabId, demo.id);
  const other = await s.built.repos.labs.create('Not Mine');
  assert.equal((await client.json('/api/me/lab', 'POST', { labId: other.id })).status, 404);
});

test('Secure cookie: always when configured; in auto mode only for https as seen through a trusted proxy', async () => {
  const forced = await startServer({ cookieSecure: true });
  const proxied = await startServer({ cookieSecure: 'auto', trustProxy: ['127.0.0.1'] });
  const otherProxy = await startServer({ cookieSecure: 'auto', trustProxy: ['192.0.2.10'] });
  try {
    const r1 = await new Client(forced.url).login('admin', adminPassword);
    assert.match(r1.headers.get('set-cookie') ?? '', /; Secure/);
    const viaTls = await fetch(`${proxied.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-proto': 'https' }, body: JSON.stringify({ username: 'admin', password: adminPassword }) });
    assert.match(viaTls.headers.get('set-cookie') ?? '', /; Secure/);
    const plain = await new Client(proxied.url).login('admin', adminPassword);
    assert.doesNotMatch(plain.headers.get('set-cookie') ?? '', /Secure/);
    // X-Forwarded-Proto from a peer that is not a configured proxy is a client's claim: ignored.
    const forged = await fetch(`${otherProxy.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-proto': 'https' }, body: JSON.stringify({ username: 'admin', password: adminPassword }) });
    assert.equal(forged.status, 200);
    assert.doesNotMatch(forged.headers.get('set-cookie') ?? '', /Secure/);
  } finally {
    for (const x of [forced, proxied, otherProxy]) {
      await x.stop();
      await removeDir(x.config.dataDir);
    }
  }
});
