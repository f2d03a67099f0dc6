import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { latestVersion, migrate, migrations, schemaVersion } from '../../src/server/db/migrations.ts';
import { openSqliteHandle } from '../../src/server/db/database.ts';
import { removeDir } from './support.ts';

const tables = (db: BetterSqlite3.Database): string[] =>
  (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as { name: string }[]).map((r) => r.name);

test('a fresh database gets every migration, in WAL mode', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wsi-mig-'));
  try {
    const db = openSqliteHandle(join(dir, 'wsi.sqlite'));
    assert.equal(schemaVersion(db), latestVersion());
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

    const db = openSqliteHandle(file);
    assert.equal(schemaVersion(db), latestVersion());
    assert.deepEqual(db.prepare('SELECT name FROM labs').all(), [{ name: 'Old Lab' }]);
    assert.deepEqual(db.prepare('SELECT role FROM memberships').all(), [{ role: 'lab-user' }]);
    // The new tables work with the old rows.
    db.prepare(`INSERT INTO cases (lab_id, case_number) VALUES (1, 'C-1')`).run();
    const schemaBefore = db.prepare('SELECT sql FROM sqlite_master ORDER BY name').all();
    assert.deepEqual(migrate(db), []);
    assert.deepEqual(db.prepare('SELECT sql FROM sqlite_master ORDER BY name').all(), schemaBefore);
    db.close();

    // And reopening (what every server start does) is a no-op too.
    const again = openSqliteHandle(file);
    assert.equal(schemaVersion(again), latestVersion());
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
  db.pragma(`user_version = ${latestVersion() + 1}`);
  assert.throws(() => migrate(db), /newer than this server/);
  db.close();
});

test('version 5 → 6 on a database with scans: rows, children and foreign keys survive; quarantined becomes a valid status', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wsi-mig-'));
  const file = join(dir, 'wsi.sqlite');
  try {
    const old = new BetterSqlite3(file);
    old.pragma('foreign_keys = ON');
    assert.deepEqual(migrate(old, 5), [1, 2, 3, 4, 5]);
    old.exec(`
      INSERT INTO labs (name) VALUES ('Old Lab');
      INSERT INTO users (username, display_name, password_hash) VALUES ('u1', 'U One', 'x');
      INSERT INTO scans (id, lab_id, slide_id, batch_id, status, mode, parts, claimed_format, original_filename, uploaded_by, total_bytes)
        VALUES (7, 1, 's-7', 'b', 'ready', 'deidentified', 1, 'aperio-svs', 'a.svs', 1, 100);
      INSERT INTO scans (id, lab_id, slide_id, batch_id, status, mode, parts, claimed_format, original_filename, uploaded_by, source_scan_id, source_slide)
        VALUES (8, 1, 's-7/1', 'b', 'needs-mpp', 'direct', 0, 'dicom-wsi', 'a.zip (slide 2 of 2)', 1, 7, 1);
      INSERT INTO uploads (id, lab_id, user_id, slide_id, batch_id, part, parts, filename, format, sha256, mode, size, status, scan_id)
        VALUES ('up1', 1, 1, 's-7', 'b', 0, 1, 'a.svs', 'aperio-svs', 'ff', 'deidentified', 100, 'complete', 7);
      INSERT INTO scan_files (scan_id, part, path, size, sha256, upload_id) VALUES (7, 0, 'scans/1/7/part-0.svs', 100, 'ff', 'up1');
      INSERT INTO scan_instances (scan_id, part, path, size, sha256) VALUES (8, 0, 'scans/1/8/i.dcm', 5, 'ee');
      INSERT INTO cases (lab_id, case_number) VALUES (1, 'C-1');
      INSERT INTO case_scans (case_id, scan_id, lab_id) VALUES (1, 7, 1);
    `);
    assert.throws(() => old.prepare(`UPDATE scans SET status = 'quarantined' WHERE id = 7`).run(), /CHECK constraint/);
    old.close();

    const db = openSqliteHandle(file);
    assert.equal(schemaVersion(db), latestVersion());
    assert.equal(db.pragma('foreign_keys', { simple: true }), 1, 'foreign keys are on again after the rebuild');
    assert.deepEqual(db.pragma('foreign_key_check'), []);
    assert.deepEqual(db.prepare('SELECT id, status, source_scan_id AS src, total_bytes AS bytes, verify_problems AS vp, files_removed_at AS fr FROM scans ORDER BY id').all(), [
      { id: 7, status: 'ready', src: null, bytes: 100, vp: null, fr: null },
      { id: 8, status: 'needs-mpp', src: 7, bytes: 0, vp: null, fr: null },
    ]);
    // The children were not cascaded away by the rebuild and still hang off the new table.
    assert.equal((db.prepare('SELECT count(*) AS n FROM scan_files').get() as { n: number }).n, 1);
    assert.equal((db.prepare('SELECT count(*) AS n FROM case_scans').get() as { n: number }).n, 1);
    assert.equal((db.prepare('SELECT count(*) AS n FROM scan_instances').get() as { n: number }).n, 1);
    assert.deepEqual(db.prepare('SELECT scan_id AS s, kept_fields AS k FROM uploads').all(), [{ s: 7, k: '[]' }]);
    const indexes = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'scans' AND sql IS NOT NULL ORDER BY name`).all() as { name: string }[]).map((r) => r.name);
    // The worklist's indexes (issue 13; scans_lab_id: issue 16's batch choices) come on top of the rebuilt table's own two.
    assert.deepEqual(indexes, [
      'scans_lab_batch', 'scans_lab_created', 'scans_lab_filters', 'scans_lab_format', 'scans_lab_id', 'scans_lab_name', 'scans_lab_status', 'scans_lab_status_created',
      'scans_lab_unlinked_created', 'scans_lab_unlinked_name', 'scans_lab_unlinked_status', 'scans_lab_uploader', 'scans_source',
    ]);
    assert.ok(!tables(db).includes('scans_new'));

    db.prepare(`UPDATE scans SET status = 'quarantined' WHERE id = 7`).run();
    assert.throws(() => db.prepare(`UPDATE scans SET status = 'bogus' WHERE id = 7`).run(), /CHECK constraint/);
    assert.throws(() => db.prepare(`INSERT INTO scans (lab_id, slide_id, batch_id, status, mode, parts, claimed_format, original_filename) VALUES (1, 's-7', 'b', 'ready', 'direct', 1, 'x', 'y')`).run(), /UNIQUE/);
    // Foreign keys point at the rebuilt table: deleting a scan cascades to its children and derived scans.
    db.prepare('DELETE FROM scans WHERE id = 7').run();
    assert.equal((db.prepare('SELECT count(*) AS n FROM scans').get() as { n: number }).n, 0, 'the derived scan went with its source');
    assert.equal((db.prepare('SELECT count(*) AS n FROM scan_files').get() as { n: number }).n, 0);
    assert.equal((db.prepare('SELECT count(*) AS n FROM case_scans').get() as { n: number }).n, 0);
    assert.equal((db.prepare('SELECT count(*) AS n FROM scan_instances').get() as { n: number }).n, 0);
    assert.deepEqual(db.prepare('SELECT scan_id AS s FROM uploads').all(), [{ s: null }]);
    db.close();
  } finally {
    await removeDir(dir);
  }
});

test('a migration that runs with foreign keys off and fails leaves them on and the version unchanged', () => {
  const db = new BetterSqlite3(':memory:');
  db.pragma('foreign_keys = ON');
  const list = ['CREATE TABLE p (id INTEGER PRIMARY KEY); CREATE TABLE c (p INTEGER REFERENCES p(id));', { foreignKeysOff: true as const, sql: 'INSERT INTO c VALUES (42);' }];
  assert.throws(() => migrate(db, undefined, list), /foreign key/);
  assert.equal(schemaVersion(db), 1);
  assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
  assert.equal((db.prepare('SELECT count(*) AS n FROM c').get() as { n: number }).n, 0);
  db.close();
});
