import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import BetterSqlite3 from 'better-sqlite3';
import { hashPassword } from '../../src/server/auth/password.ts';
import { migrate, migrations } from '../../src/server/db/migrations.ts';
import type { Role } from '../../src/server/db/repos/labs.ts';
import { Client, adminClient, adminPassword, removeDir, startServer, tusCreate, partMeta, type TestServer } from './support.ts';

let s: TestServer;
let admin: Client;
before(async () => {
  s = await startServer();
  admin = await adminClient(s);
});
after(async () => {
  await s.stop();
  await removeDir(s.config.dataDir);
});

const pw = (name: string) => `${name}-has-a-long-password`;
type Json = Record<string, any>;
const body = async (r: Response): Promise<Json> => (await r.json()) as Json;

async function lab(name: string, features: 'bulk-import'[] = ['bulk-import']): Promise<number> {
  const { repos } = s.built;
  const l = await repos.labs.byName(name) ?? await repos.labs.create(name);
  await repos.labs.setFeatures(l.id, features);
  return l.id;
}

/** A user (created directly in the database) with the given memberships, not signed in. */
async function user(username: string, memberships: [number, Role][] = []): Promise<number> {
  const { repos } = s.built;
  const id = (await repos.users.credentialsByUsername(username))?.id ?? (await repos.users.create(username, username, await hashPassword(pw(username)))).id;
  for (const [labId, role] of memberships) await repos.labs.setRole(labId, id, role);
  return id;
}

async function signIn(username: string, password = pw(username)): Promise<Client> {
  const c = new Client(s.url);
  const r = await c.login(username, password);
  assert.equal(r.status, 200, `sign-in of ${username}`);
  return c;
}

const me = async (c: Client): Promise<Json> => body(await c.fetch('/api/me'));

test('a lab admin cannot enrol an existing user of another lab: invitation instead, accepted or declined by that user', async () => {
  const a = await lab('Invite A');
  const b = await lab('Invite B');
  await user('inv-admin-b', [[b, 'lab-admin']]);
  const victimId = await user('inv-victim', [[a, 'lab-user']]);
  const adminB = await signIn('inv-admin-b');

  // The attack from the issue: POST with an existing username, no password. No longer a membership.
  const direct = await adminB.json(`/api/labs/${b}/users`, 'POST', { username: 'inv-victim', role: 'lab-admin' });
  assert.equal(direct.status, 400);
  assert.equal((await body(direct)).error.code, 'PASSWORD_REQUIRED');
  const withPassword = await adminB.json(`/api/labs/${b}/users`, 'POST', { username: 'inv-victim', role: 'lab-user', password: 'a-takeover-attempt-1' });
  assert.equal(withPassword.status, 409);
  assert.equal(await s.built.repos.labs.roleOf(b, victimId), undefined, 'not a member of B');

  const invite = await adminB.json(`/api/labs/${b}/invitations`, 'POST', { username: 'inv-victim', role: 'lab-user' });
  assert.equal(invite.status, 202);
  assert.equal(await s.built.repos.labs.roleOf(b, victimId), undefined, 'inviting adds nobody');
  const pending = (await body(await adminB.fetch(`/api/labs/${b}/invitations`))).invitations as Json[];
  assert.deepEqual(pending.map((i) => [i.username, i.role]), [['inv-victim', 'lab-user']]);

  const victim = await signIn('inv-victim');
  let m = await me(victim);
  assert.equal(m.pendingInvitations, 1);
  assert.equal(m.currentLabId, a);
  const mine = (await body(await victim.fetch('/api/me/invitations'))).invitations as Json[];
  assert.equal(mine.length, 1);
  assert.deepEqual(mine[0].lab, { id: b, name: 'Invite B' });
  assert.equal(mine[0].role, 'lab-user');

  // Someone else cannot answer it.
  const bystander = await signIn('inv-admin-b');
  assert.equal((await bystander.json(`/api/me/invitations/${mine[0].id}/accept`, 'POST', {})).status, 404);

  assert.equal((await victim.json(`/api/me/invitations/${mine[0].id}/decline`, 'POST', {})).status, 204);
  assert.equal(await s.built.repos.labs.roleOf(b, victimId), undefined);
  assert.equal((await me(victim)).pendingInvitations, 0);
  assert.equal((await victim.json(`/api/me/invitations/${mine[0].id}/accept`, 'POST', {})).status, 404, 'a declined invitation is gone');

  await adminB.json(`/api/labs/${b}/invitations`, 'POST', { username: 'INV-VICTIM', role: 'viewer' });
  const again = (await body(await victim.fetch('/api/me/invitations'))).invitations as Json[];
  const accepted = await victim.json(`/api/me/invitations/${again[0].id}/accept`, 'POST', {});
  assert.equal(accepted.status, 200);
  m = await body(accepted);
  assert.deepEqual(m.labs.map((l: Json) => [l.id, l.role]).sort(), [[a, 'lab-user'], [b, 'viewer']].sort());
  assert.equal(m.currentLabId, a, 'joining a lab does not move the user into it');
  assert.equal((await adminB.json(`/api/labs/${b}/invitations`, 'POST', { username: 'inv-victim', role: 'viewer' })).status, 409, 'already a member');
});

test('inviting an unknown and an existing username gives the same answer', async () => {
  const l = await lab('Invite Same');
  await user('same-admin', [[l, 'lab-admin']]);
  await user('same-exists');
  const c = await signIn('same-admin');
  const known = await c.json(`/api/labs/${l}/invitations`, 'POST', { username: 'same-exists', role: 'viewer' });
  const unknown = await c.json(`/api/labs/${l}/invitations`, 'POST', { username: 'same-nobody', role: 'viewer' });
  assert.equal(known.status, unknown.status);
  const [kb, ub] = [await body(known), await body(unknown)];
  const shape = (x: Json): string[] => Object.keys(x.invitation).sort();
  assert.deepEqual(shape(kb), shape(ub));
  assert.deepEqual({ ...kb.invitation, id: 0, username: '', createdAt: '', expiresAt: '' }, { ...ub.invitation, id: 0, username: '', createdAt: '', expiresAt: '' });
  const listed = ((await body(await c.fetch(`/api/labs/${l}/invitations`))).invitations as Json[]).map((i) => i.username).sort();
  assert.deepEqual(listed, ['same-exists', 'same-nobody'], 'both wait alike');
});

test('a platform admin adds an existing user directly; the first admin is the platform admin', async () => {
  const l = await lab('Platform Direct');
  const id = await user('direct-user');
  const m = await me(admin);
  assert.equal(m.platformAdmin, true);
  const r = await admin.json(`/api/labs/${l}/users`, 'POST', { username: 'direct-user', role: 'lab-user' });
  assert.equal(r.status, 200);
  assert.equal(await s.built.repos.labs.roleOf(l, id), 'lab-user');
  assert.equal((await admin.json(`/api/labs/${l}/users`, 'POST', { username: 'direct-user', role: 'viewer' })).status, 409);
  const labs = (await body(await admin.fetch('/api/labs'))).labs as Json[];
  assert.ok(labs.some((x) => x.id === l && x.members === 1));
  const created = await admin.json('/api/labs', 'POST', { name: 'Brand New Lab' });
  assert.equal(created.status, 201);
  const plain = await signIn('direct-user');
  assert.equal((await me(plain)).platformAdmin, false);
  assert.equal((await plain.fetch('/api/labs')).status, 403);
});

test('the current lab is the one the user last chose, never the first by name; switching persists', async () => {
  const alpha = await lab('Aaa First By Name');
  const zulu = await lab('Zzz Chosen');
  await user('chooser', [[alpha, 'lab-user'], [zulu, 'lab-user']]);
  let c = await signIn('chooser');
  assert.equal((await me(c)).currentLabId, null, 'two labs and no choice yet: the user picks');
  const scans = await c.fetch('/api/scans');
  assert.equal(scans.status, 409);
  assert.equal((await body(scans)).error.code, 'NO_CURRENT_LAB');
  assert.equal((await tusCreate(c, 10, { ...partMeta(new Uint8Array(10)) })).res.status, 409, 'no upload into a lab nobody chose');
  assert.equal((await c.json('/api/me/lab', 'POST', { labId: zulu })).status, 200);

  c = await signIn('chooser');
  assert.equal((await me(c)).currentLabId, zulu, 'remembered for the next sign-in');

  // Another PC switching does not move this session's uploads, but the next sign-in follows the latest choice.
  const other = await signIn('chooser');
  await other.json('/api/me/lab', 'POST', { labId: alpha });
  assert.equal((await me(c)).currentLabId, zulu);
  assert.equal((await me(await signIn('chooser'))).currentLabId, alpha);

  // Removed from the chosen lab: the only one left is current.
  const id = (await s.built.repos.users.credentialsByUsername('chooser'))!.id;
  assert.equal((await admin.fetch(`/api/labs/${alpha}/users/${id}`, { method: 'DELETE' })).status, 204);
  assert.equal((await me(c)).currentLabId, zulu);
  assert.equal((await me(other)).currentLabId, zulu, 'a session in the removed lab falls back to the remaining one');
});

test('lab admins change roles and remove members; the last lab admin cannot be demoted or removed (409)', async () => {
  const l = await lab('Last Admin');
  const first = await user('last-admin-1', [[l, 'lab-admin']]);
  const second = await user('last-admin-2', [[l, 'lab-user']]);
  const member = await user('last-member', [[l, 'viewer']]);
  const c = await signIn('last-admin-1');

  const demoteSelf = await c.json(`/api/labs/${l}/users/${first}`, 'PUT', { role: 'lab-user' });
  assert.equal(demoteSelf.status, 409);
  const err = (await body(demoteSelf)).error;
  assert.equal(err.code, 'LAST_LAB_ADMIN');
  assert.match(err.message, /last lab admin/);
  assert.equal((await c.fetch(`/api/labs/${l}/users/${first}`, { method: 'DELETE' })).status, 409);
  assert.equal(await s.built.repos.labs.roleOf(l, first), 'lab-admin');

  const promoted = await c.json(`/api/labs/${l}/users/${second}`, 'PUT', { role: 'lab-admin' });
  assert.equal(promoted.status, 200);
  assert.equal((await body(promoted)).user.role, 'lab-admin');
  assert.equal((await c.json(`/api/labs/${l}/users/${first}`, 'PUT', { role: 'viewer' })).status, 200, 'with a second admin, the first may step down');
  const c2 = await signIn('last-admin-2');
  assert.equal((await c2.fetch(`/api/labs/${l}/users/${second}`, { method: 'DELETE' })).status, 409, 'now the second is the last');

  const viewer = await signIn('last-member');
  assert.equal((await viewer.fetch('/api/scans')).status, 200);
  assert.equal((await c2.fetch(`/api/labs/${l}/users/${member}`, { method: 'DELETE' })).status, 204);
  assert.equal(await s.built.repos.labs.roleOf(l, member), undefined);
  assert.equal((await viewer.fetch('/api/scans')).status, 403, 'a removed member reads nothing of the lab');
  assert.equal((await c2.fetch(`/api/labs/${l}/users/${member}`, { method: 'DELETE' })).status, 404);
  assert.equal((await c2.json(`/api/labs/${l}/users/${first}`, 'PUT', { role: 'god' })).status, 400);
});

test('sign-in: wrong password, unknown user and a used temporary password answer alike', async () => {
  const l = await lab('Same Answer');
  const id = await user('same-answer', [[l, 'lab-user']]);
  const anon = new Client(s.url);
  const wrong = await anon.login('same-answer', 'not-the-password-at-all');
  const unknown = await anon.login('same-answer-nobody', 'not-the-password-at-all');
  await s.built.repos.users.setTemporaryPassword(id, await hashPassword('temporary-secret-1'), Date.now() - 1000);
  const expired = await anon.login('same-answer', 'temporary-secret-1');
  for (const r of [wrong, unknown, expired]) assert.equal(r.status, 401);
  const [a, b, c] = [await body(wrong), await body(unknown), await body(expired)];
  assert.deepEqual(a, b);
  assert.deepEqual(a, c);
});

test('one password policy: creating users, changing one\'s own password', async () => {
  const l = await lab('Policy Lab');
  await user('policy-admin', [[l, 'lab-admin']]);
  const c = await signIn('policy-admin');
  const weak = await c.json(`/api/labs/${l}/users`, 'POST', { username: 'policy-new', role: 'viewer', password: 'password1234' });
  assert.equal(weak.status, 400);
  assert.equal((await body(weak)).error.code, 'PASSWORD_COMMON');
  const short = await c.json(`/api/labs/${l}/users`, 'POST', { username: 'policy-new', role: 'viewer', password: 'short-pw' });
  assert.equal((await body(short)).error.code, 'PASSWORD_TOO_SHORT');
  const ok = await c.json(`/api/labs/${l}/users`, 'POST', { username: 'policy-new', displayName: 'New Person', role: 'viewer', password: 'four small words ok' });
  assert.equal(ok.status, 201);
  assert.deepEqual(((await body(ok)).user as Json).role, 'viewer');
  const fresh = await signIn('policy-new', 'four small words ok');
  assert.equal((await me(fresh)).currentLabId, l, 'a new account starts in the lab that created it');

  // Changing one's own password.
  const elsewhere = await signIn('policy-new', 'four small words ok');
  const wrongCurrent = await fresh.json('/api/me/password', 'POST', { currentPassword: 'not it at all', newPassword: 'another fine passphrase' });
  assert.equal(wrongCurrent.status, 403);
  assert.equal((await body(wrongCurrent)).error.code, 'WRONG_PASSWORD');
  const weakNew = await fresh.json('/api/me/password', 'POST', { currentPassword: 'four small words ok', newPassword: 'qwertyuiop12' });
  assert.equal((await body(weakNew)).error.code, 'PASSWORD_COMMON');
  const changed = await fresh.json('/api/me/password', 'POST', { currentPassword: 'four small words ok', newPassword: 'another fine passphrase' });
  assert.equal(changed.status, 200);
  assert.equal((await fresh.fetch('/api/me')).status, 200, 'this session stays');
  assert.equal((await elsewhere.fetch('/api/me')).status, 401, 'other sessions end');
  assert.equal((await new Client(s.url).login('policy-new', 'four small words ok')).status, 401);
  await signIn('policy-new', 'another fine passphrase');
});

test('a stolen session cannot guess the current password for long', async () => {
  const l = await lab('Guess Lab');
  await user('guessed', [[l, 'viewer']]);
  const c = await signIn('guessed');
  for (let i = 0; i < 4; i++) assert.equal((await c.json('/api/me/password', 'POST', { currentPassword: `guess-${i}`, newPassword: 'attacker chosen phrase' })).status, 403);
  assert.equal((await c.json('/api/me/password', 'POST', { currentPassword: 'guess-5', newPassword: 'attacker chosen phrase' })).status, 401);
  assert.equal((await c.fetch('/api/me')).status, 401, 'signed out');
  await signIn('guessed');
});

test('one-time reset: temporary password signs in once, then only a new password can be set', async () => {
  const l = await lab('Reset Lab');
  const other = await lab('Reset Other');
  await user('reset-admin', [[l, 'lab-admin']]);
  const id = await user('reset-me', [[l, 'lab-user']]);
  const both = await user('reset-both', [[l, 'lab-user'], [other, 'viewer']]);
  const c = await signIn('reset-admin');
  const before = await signIn('reset-me');

  const r = await c.json(`/api/labs/${l}/users/${id}/password-reset`, 'POST', {});
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('cache-control'), 'no-store');
  const { temporaryPassword, expiresAt } = await body(r);
  assert.equal(typeof temporaryPassword, 'string');
  assert.ok(Date.parse(expiresAt) > Date.now());
  assert.equal((await before.fetch('/api/me')).status, 401, 'the user\'s sessions end');
  assert.equal((await new Client(s.url).login('reset-me', pw('reset-me'))).status, 401, 'the old password is gone');

  const t = await signIn('reset-me', temporaryPassword);
  const m = await me(t);
  assert.equal(m.mustChangePassword, true);
  const blocked = await t.fetch('/api/scans');
  assert.equal(blocked.status, 403);
  assert.equal((await body(blocked)).error.code, 'PASSWORD_CHANGE_REQUIRED');
  assert.equal((await tusCreate(t, 10, { ...partMeta(new Uint8Array(10)) })).res.status, 403);
  assert.equal((await new Client(s.url).login('reset-me', temporaryPassword)).status, 401, 'one sign-in only');

  const done = await t.json('/api/me/password', 'POST', { currentPassword: temporaryPassword, newPassword: 'my own new passphrase' });
  assert.equal(done.status, 200);
  assert.equal((await body(done)).mustChangePassword, false);
  assert.equal((await t.fetch('/api/scans')).status, 200);
  await signIn('reset-me', 'my own new passphrase');

  // A lab admin cannot reset an account that also belongs to a lab they do not administer; a platform admin can.
  const refused = await c.json(`/api/labs/${l}/users/${both}/password-reset`, 'POST', {});
  assert.equal(refused.status, 403);
  assert.equal((await new Client(s.url).login('reset-both', pw('reset-both'))).status, 200, 'nothing changed');
  assert.equal((await admin.json(`/api/labs/${l}/users/${both}/password-reset`, 'POST', {})).status, 200);
  assert.equal((await c.json(`/api/labs/${l}/users/${(await s.built.repos.users.credentialsByUsername('reset-admin'))!.id}/password-reset`, 'POST', {})).status, 400, 'own account: change password instead');
});

test('WSI_ADMIN_PASSWORD must pass the policy; a generated one does', async () => {
  await assert.rejects(startServer({ adminPassword: 'password1234' }), /WSI_ADMIN_PASSWORD/);
  const generated = await startServer({ adminPassword: undefined });
  try {
    const pwd = generated.built.firstAdmin?.generatedPassword;
    assert.ok(pwd);
    assert.equal((await new Client(generated.url).login('admin', pwd)).status, 200);
  } finally {
    await generated.stop();
    await removeDir(generated.config.dataDir);
  }
  assert.equal((await new Client(s.url).login('admin', adminPassword)).status, 200);
});

test('migration: the first user becomes platform admin; the current lab comes from the newest session', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wsi-accounts-migration-'));
  try {
    const db = new BetterSqlite3(join(dir, 'old.sqlite'));
    db.pragma('foreign_keys = ON');
    const mine = migrations.findIndex((m) => (typeof m === 'string' ? m : m.sql).includes('CREATE TABLE invitations'));
    assert.ok(mine > 0);
    migrate(db, mine);
    db.exec(`INSERT INTO labs (id, name) VALUES (1, 'A'), (2, 'B'), (3, 'C');
      INSERT INTO users (id, username, display_name, password_hash) VALUES (1, 'first', 'F', 'x'), (2, 'second', 'S', 'x'), (3, 'third', 'T', 'x');
      INSERT INTO memberships (user_id, lab_id, role) VALUES (1, 1, 'lab-admin'), (2, 1, 'lab-user'), (2, 2, 'lab-user'), (3, 3, 'viewer');
      INSERT INTO sessions (token_hash, user_id, current_lab_id, created_at, expires_at) VALUES
        ('t1', 2, 1, 100, 9e12), ('t2', 2, 2, 200, 9e12), ('t3', 2, 3, 300, 9e12);`);
    migrate(db, mine + 1);
    const rows = db.prepare('SELECT id, platform_admin AS pa, current_lab_id AS lab FROM users ORDER BY id').all();
    // User 2's newest session points at lab 3, which they do not belong to: the newest valid one (lab 2) wins.
    assert.deepEqual(rows, [{ id: 1, pa: 1, lab: null }, { id: 2, pa: 0, lab: 2 }, { id: 3, pa: 0, lab: null }]);
    db.close();
  } finally {
    await removeDir(dir);
  }
});
