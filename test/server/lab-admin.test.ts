import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword } from '../../src/server/auth/password.ts';
import type { Role } from '../../src/server/db/repos/labs.ts';
import { Client, adminClient, removeDir, startServer, type TestServer } from './support.ts';

/**
 * Issue 13, administration: accounts made with a one-time password, deactivating and reactivating,
 * labs created with their first admin, and the rules around them (the last lab admin, accounts in
 * labs the caller does not administer). Who may call each route at all: access-matrix.test.ts.
 */
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

type Json = Record<string, any>;
const body = async (r: Response): Promise<Json> => (await r.json()) as Json;
const pw = (name: string) => `${name}-has-a-long-password`;

async function lab(name: string): Promise<number> {
  const { repos } = s.built;
  return (await repos.labs.byName(name) ?? await repos.labs.create(name)).id;
}

async function user(username: string, memberships: [number, Role][] = []): Promise<number> {
  const { repos } = s.built;
  const id = (await repos.users.credentialsByUsername(username))?.id ?? (await repos.users.create(username, username, await hashPassword(pw(username)))).id;
  for (const [labId, role] of memberships) await repos.labs.setRole(labId, id, role);
  return id;
}

async function signIn(username: string, password = pw(username)): Promise<Client> {
  const c = new Client(s.url);
  const r = await c.login(username, password);
  assert.equal(r.status, 200, `sign-in of ${username}: ${await r.clone().text()}`);
  return c;
}

/** Signs in with a one-time password and chooses `newPassword`, as the forced page does. */
async function firstSignIn(username: string, oneTime: string, newPassword: string): Promise<Client> {
  const c = await signIn(username, oneTime);
  const m = await body(await c.fetch('/api/me'));
  assert.equal(m.mustChangePassword, true, 'a one-time password must be replaced first');
  assert.equal((await c.fetch('/api/scans')).status, 403, 'nothing else before that');
  const changed = await c.json('/api/me/password', 'POST', { currentPassword: oneTime, newPassword });
  assert.equal(changed.status, 200, await changed.clone().text());
  return c;
}

test('a lab admin creates an account with a one-time password: shown once, signs in once, then a password of their own', async () => {
  const l = await lab('OTP Lab');
  await user('otp-admin', [[l, 'lab-admin']]);
  const c = await signIn('otp-admin');
  const r = await c.json(`/api/labs/${l}/users`, 'POST', { username: 'otp-new', displayName: 'Otto New', role: 'lab-user', oneTimePassword: true });
  assert.equal(r.status, 201);
  assert.equal(r.headers.get('cache-control'), 'no-store');
  const made = await body(r);
  assert.equal(made.user.username, 'otp-new');
  assert.equal(made.user.displayName, 'Otto New');
  assert.equal(made.user.role, 'lab-user');
  assert.equal(made.user.deactivatedAt, null);
  assert.match(made.temporaryPassword, /^[A-Za-z0-9]{20}$/);
  assert.ok(Date.parse(made.expiresAt) > Date.now() + 24 * 3600_000);
  // Never again in any list.
  assert.ok(!JSON.stringify(await body(await c.fetch(`/api/labs/${l}/users`))).includes(made.temporaryPassword));

  await firstSignIn('otp-new', made.temporaryPassword, 'my own long passphrase here');
  assert.equal((await new Client(s.url).login('otp-new', made.temporaryPassword)).status, 401, 'the one-time password is spent');
  await signIn('otp-new', 'my own long passphrase here');

  const taken = await c.json(`/api/labs/${l}/users`, 'POST', { username: 'OTP-NEW', role: 'viewer', oneTimePassword: true });
  assert.equal(taken.status, 409);
  assert.equal((await body(taken)).error.code, 'USERNAME_UNAVAILABLE');
  assert.equal((await c.json(`/api/labs/${l}/users`, 'POST', { username: 'bad name!', role: 'viewer', oneTimePassword: true })).status, 400);
});

test('deactivating ends the sessions and stops sign-in; reactivating gives the account back; the list shows the status', async () => {
  const l = await lab('Deactivate Lab');
  await user('deact-admin', [[l, 'lab-admin']]);
  const targetId = await user('deact-user', [[l, 'lab-user']]);
  const c = await signIn('deact-admin');
  const victim = await signIn('deact-user');
  assert.equal((await victim.fetch('/api/me')).status, 200);

  const off = await c.json(`/api/labs/${l}/users/${targetId}/status`, 'PUT', { active: false });
  assert.equal(off.status, 200);
  assert.ok((await body(off)).user.deactivatedAt, 'the answer carries the new status');
  assert.equal((await victim.fetch('/api/me')).status, 401, 'the open session ended');
  const refused = await new Client(s.url).login('deact-user', pw('deact-user'));
  assert.equal(refused.status, 403);
  assert.equal((await body(refused)).error.code, 'ACCOUNT_DEACTIVATED');
  assert.equal((await new Client(s.url).login('deact-user', 'not the password')).status, 401, 'a wrong password says nothing about the status');
  const listed = ((await body(await c.fetch(`/api/labs/${l}/users`))).users as Json[]).find((u) => u.username === 'deact-user');
  assert.ok(listed?.deactivatedAt);

  assert.equal((await c.json(`/api/labs/${l}/users/${targetId}/status`, 'PUT', { active: 'no' })).status, 400);
  assert.equal((await c.json(`/api/labs/${l}/users/${targetId}/status`, 'PUT', { active: true })).status, 200);
  await signIn('deact-user');
  assert.equal(await s.built.repos.labs.roleOf(l, targetId), 'lab-user', 'membership kept throughout');
});

test('deactivation rules: not oneself, not the last active lab admin, not an account in a lab the caller does not administer', async () => {
  const l = await lab('Rules Lab');
  const other = await lab('Rules Other Lab');
  const adminId = await user('rules-admin', [[l, 'lab-admin']]);
  const sharedId = await user('rules-shared', [[l, 'lab-user'], [other, 'lab-user']]);
  const c = await signIn('rules-admin');

  const self = await c.json(`/api/labs/${l}/users/${adminId}/status`, 'PUT', { active: false });
  assert.equal(self.status, 400);
  assert.equal((await body(self)).error.code, 'OWN_ACCOUNT');
  assert.equal((await c.json(`/api/labs/${l}/users/${sharedId}/status`, 'PUT', { active: false })).status, 403);
  // A platform admin may; but not the only active lab admin of a lab.
  assert.equal((await admin.json(`/api/labs/${l}/users/${sharedId}/status`, 'PUT', { active: false })).status, 200);
  const last = await admin.json(`/api/labs/${l}/users/${adminId}/status`, 'PUT', { active: false });
  assert.equal(last.status, 409);
  assert.equal((await body(last)).error.code, 'LAST_LAB_ADMIN');

  // With a second admin who is deactivated, the first still counts as the last one: for status and role.
  const secondId = await user('rules-second', [[l, 'lab-admin']]);
  assert.equal((await admin.json(`/api/labs/${l}/users/${secondId}/status`, 'PUT', { active: false })).status, 200);
  assert.equal((await admin.json(`/api/labs/${l}/users/${adminId}/status`, 'PUT', { active: false })).status, 409);
  assert.equal((await c.json(`/api/labs/${l}/users/${adminId}`, 'PUT', { role: 'lab-user' })).status, 409, 'no demoting the last active admin either');
  assert.equal((await admin.json(`/api/labs/${l}/users/${secondId}/status`, 'PUT', { active: true })).status, 200);
  assert.equal((await c.json(`/api/labs/${l}/users/${adminId}`, 'PUT', { role: 'lab-user' })).status, 200, 'now there is another active admin');
});

test('a platform admin creates a lab with its first admin (one-time password) and bulk import; all or nothing', async () => {
  const r = await admin.json('/api/labs', 'POST', { name: 'Histology North', features: ['bulk-import'], admin: { username: 'north-admin', displayName: 'Dr North' } });
  assert.equal(r.status, 201);
  assert.equal(r.headers.get('cache-control'), 'no-store');
  const made = await body(r);
  assert.equal(made.lab.name, 'Histology North');
  assert.deepEqual(made.lab.features, ['bulk-import']);
  assert.equal(made.lab.members, 1);
  assert.equal(made.admin.user.role, 'lab-admin');
  assert.equal(made.admin.user.displayName, 'Dr North');

  const north = await firstSignIn('north-admin', made.admin.temporaryPassword, 'north lab admin passphrase');
  const m = await body(await north.fetch('/api/me'));
  assert.equal(m.currentLabId, made.lab.id);
  assert.equal(m.canImport, true);
  assert.equal(m.platformAdmin, false);
  assert.equal((await north.json(`/api/labs/${made.lab.id}/features`, 'PUT', { features: [] })).status, 200, 'the new admin switches the flag');

  // A taken username creates no lab; a taken lab name creates no account.
  const dupUser = await admin.json('/api/labs', 'POST', { name: 'Histology South', admin: { username: 'NORTH-ADMIN' } });
  assert.equal(dupUser.status, 409);
  assert.equal(await s.built.repos.labs.byName('Histology South'), undefined);
  const dupLab = await admin.json('/api/labs', 'POST', { name: 'Histology North', admin: { username: 'south-admin' } });
  assert.equal(dupLab.status, 409);
  assert.equal((await body(dupLab)).error.code, 'LAB_EXISTS');
  assert.equal(await s.built.repos.users.exists('south-admin'), false);
  assert.equal((await admin.json('/api/labs', 'POST', { name: 'Bad Flags', features: ['teleport'] })).status, 400);
});
