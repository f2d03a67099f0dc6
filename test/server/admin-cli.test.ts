import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runAdminCommand } from '../../src/server/admin-cli.ts';
import { Client, removeDir, repoRoot, startServer, testDatabaseFor, type TestServer } from './support.ts';

/**
 * The operator command (npm run admin) against a temp data dir, with the server running on the
 * same database the way an operator would use it: what it prints, and that the one-time passwords
 * it prints sign in (once) at the server.
 */
let dataDir: string;
let s: TestServer;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'wsi-admin-cli-'));
});
after(async () => {
  await s?.stop();
  await removeDir(dataDir);
});

async function admin(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  // Under WSI_TEST_DATABASE_URL the server of this data dir runs on PostgreSQL: so does the command.
  const url = await testDatabaseFor(dataDir);
  const code = await runAdminCommand(argv, { WSI_DATA_DIR: dataDir, ...(url ? { WSI_DATABASE_URL: url } : {}) }, { log: (l) => out.push(l), error: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const oneTimeOf = (out: string): string => {
  const m = /One-time password:\s+(\S+)\s+\(shown only now\)/.exec(out);
  assert.ok(m, `no one-time password printed:\n${out}`);
  return m[1];
};

// A guard of the SQLite file only: a PostgreSQL database is named by its URL, not found in the data dir.
const onPostgres = process.env.WSI_TEST_DATABASE_URL ? 'checks the SQLite file in the data dir' : false;

test('refuses to start an empty database for anything but a first lab (a mistyped WSI_DATA_DIR)', { skip: onPostgres }, async () => {
  const r = await admin('list-users');
  assert.equal(r.code, 1);
  assert.match(r.err, /No database at .*wsi\.sqlite\. Set WSI_DATA_DIR/);
  assert.equal(existsSync(join(dataDir, 'wsi.sqlite')), false);
});

test('create-lab with its first admin, create-user, list-users; the printed passwords sign in once at the server', async () => {
  const lab = await admin('create-lab', 'Pathology', 'East', '--admin', 'east-admin', '--name', 'Dr East', '--bulk-import');
  assert.equal(lab.code, 0, lab.err);
  assert.match(lab.out, /Created lab "Pathology East" \(number \d+\) with Bulk Import on\./);
  const adminOtp = oneTimeOf(lab.out);

  const user = await admin('create-user', '--lab', 'Pathology East', '--username', 'east-user', '--role', 'lab-user');
  assert.equal(user.code, 0, user.err);
  const userOtp = oneTimeOf(user.out);

  const list = await admin('list-users');
  assert.match(list.out, /^2 accounts:/);
  assert.match(list.out, /east-admin {2}"Dr East" {2}active, must choose a password {2}· {2}Pathology East \(lab-admin\)/);
  assert.ok(!list.out.includes(adminOtp) && !list.out.includes(userOtp), 'passwords are printed only when made');

  // The server on the same database (it seeds nothing: there are accounts already).
  s = await startServer({ dataDir });
  assert.equal(s.built.firstAdmin, null);
  const c = new Client(s.url);
  assert.equal((await c.login('east-admin', adminOtp)).status, 200);
  const me = (await (await c.fetch('/api/me')).json()) as { mustChangePassword: boolean; canImport: boolean };
  assert.equal(me.mustChangePassword, true);
  assert.equal((await new Client(s.url).login('east-admin', adminOtp)).status, 401, 'one sign-in only');
  assert.equal((await new Client(s.url).login('east-user', userOtp)).status, 200);
});

test('reset-password signs the user out and prints a new one-time password; deactivate and reactivate', async () => {
  const c = new Client(s.url);
  const before = await admin('reset-password', 'east-user');
  const otp = oneTimeOf(before.out);
  assert.equal((await c.login('east-user', otp)).status, 200);
  assert.equal((await c.fetch('/api/me')).status, 200);

  const reset = await admin('reset-password', 'east-user');
  assert.equal(reset.code, 0);
  assert.match(reset.out, /every session of theirs has ended/);
  assert.equal((await c.fetch('/api/me')).status, 401, 'the running server sees the session gone');
  const fresh = oneTimeOf(reset.out);
  assert.notEqual(fresh, otp);

  assert.equal((await admin('deactivate', 'east-user')).code, 0);
  assert.equal((await new Client(s.url).login('east-user', fresh)).status, 403);
  assert.match((await admin('list-users', '--lab', 'Pathology East')).out, /east-user .* deactivated/);
  const last = await admin('deactivate', 'east-admin');
  assert.equal(last.code, 1);
  assert.match(last.err, /last active lab admin of Pathology East/);
  assert.equal((await admin('reactivate', 'east-user')).code, 0);
  assert.equal((await new Client(s.url).login('east-user', fresh)).status, 200);
});

test('mistakes are explained: unknown user, lab, role, command, option; taken names', async () => {
  assert.match((await admin('reset-password', 'nobody')).err, /No account has the username "nobody"/);
  assert.match((await admin('create-user', '--lab', 'Nowhere', '--username', 'x')).err, /No lab is called "Nowhere"/);
  assert.match((await admin('create-user', '--lab', 'Pathology East', '--username', 'x', '--role', 'boss')).err, /--role must be one of lab-admin, lab-user, viewer/);
  assert.match((await admin('create-user', '--lab', 'Pathology East', '--username', 'EAST-USER')).err, /cannot be used for a new account/);
  assert.match((await admin('create-lab', 'Pathology East')).err, /already exists/);
  assert.match((await admin('launch')).err, /Unknown command "launch"/);
  assert.match((await admin('list-users', '--colour')).err, /Unknown option '--colour'/);
  assert.match((await admin()).out, /^Usage: npm run admin/);
});

test('npm run admin runs the command (the package.json script)', async () => {
  const url = await testDatabaseFor(dataDir);
  const { stdout } = await promisify(execFile)('npm', ['run', '-s', 'admin', '--', 'list-users', '--lab', 'Pathology East'], {
    cwd: repoRoot,
    env: { ...process.env, WSI_DATA_DIR: dataDir, ...(url ? { WSI_DATABASE_URL: url } : {}) },
  });
  assert.match(stdout, /2 accounts in Pathology East:/);
});
