import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { migrate, migrations, schemaVersion } from '../../src/server/db/migrations.ts';
import { openDatabase } from '../../src/server/db/database.ts';
import { removeDir } from './support.ts';

const tables = (db: BetterSqlite3.Database): string[] =>
  (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as { name: string }[]).map((r) => r.name);

test('a fresh database gets every migration, in WAL mode', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wsi-mig-'));
  try {
    const db = openDatabase(join(dir, 'wsi.sqlite'));
    assert.equal(schemaVersion(db), migrations.length);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
    for (const t of ['labs', 'lab_features', 'users', 'memberships', 'sessions', 'uploads', 'scans', 'scan_files', 'cases', 'case_scans']) {
      assert.ok(tables(db).includes(t), `table ${t}`);
    }
    db.close();
  } finally {
    await removeDir(dir);
  }
});

test('an old (version 1) database with data is upgraded, keeping the data; re-running changes nothing', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wsi-mig-'));
  const file = join(dir, 'wsi.sqlite');
  try {
    const old = new BetterSqlite3(file);
    assert.deepEqual(migrate(old, 1), [1]);
    old.prepare(`INSERT INTO labs (name) VALUES ('Old Lab')`).run();
    old.prepare(`INSERT INTO users (username, display_name, password_hash) VALUES ('u1', 'U One', 'x')`).run();
    old.prepare(`INSERT INTO memberships (user_id, lab_id, role) VALUES (1, 1, 'lab-user')`).run();
    assert.ok(!tables(old).includes('scans'));
    old.close();

    const db = openDatabase(file);
    assert.equal(schemaVersion(db), migrations.length);
    assert.deepEqual(db.prepare('SELECT name FROM labs').all(), [{ name: 'Old Lab' }]);
    assert.deepEqual(db.prepare('SELECT role FROM memberships').all(), [{ role: 'lab-user' }]);
    // The new tables work with the old rows.
    db.prepare(`INSERT INTO cases (lab_id, case_number) VALUES (1, 'C-1')`).run();
    const schemaBefore = db.prepare('SELECT sql FROM sqlite_master ORDER BY name').all();
    assert.deepEqual(migrate(db), []);
    assert.deepEqual(db.prepare('SELECT sql FROM sqlite_master ORDER BY name').all(), schemaBefore);
    db.close();

    // And reopening (what every server start does) is a no-op too.
    const again = openDatabase(file);
    assert.equal(schemaVersion(again), migrations.length);
    assert.equal((again.prepare('SELECT count(*) AS n FROM cases').get() as { n: number }).n, 1);
    again.close();
  } finally {
    await removeDir(dir);
  }
});

test('a failing migration rolls back completely and leaves the version where it was', () => {
  const db = new BetterSqlite3(':memory:');
  const list = ['CREATE TABLE a (x INTEGER);', 'CREATE TABLE b (y INTEGER); INSERT INTO no_such_table VALUES (1);'];
  assert.throws(() => migrate(db, undefined, list), /no_such_table/);
  assert.equal(schemaVersion(db), 1);
  assert.deepEqual(tables(db), ['a']);
  db.close();
});

test('a database newer than the server is refused', () => {
  const db = new BetterSqlite3(':memory:');
  db.pragma(`user_version = ${migrations.length + 1}`);
  assert.throws(() => migrate(db), /newer than this server/);
  db.close();
});
