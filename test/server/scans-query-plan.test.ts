/**
 * The worklist stays fast with 100,000 scans (issue 13) only while every query shape is an index
 * walk: these tests read SQLite's EXPLAIN QUERY PLAN for each shape the Scans view makes, so a
 * change to the query or the indexes cannot silently fall back to reading the whole scans table.
 * They also check the "in a case" flag the case_scans triggers keep, which the "not in a case"
 * filter and its indexes rely on. Timings: test/bench/scans-query.bench.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import BetterSqlite3 from 'better-sqlite3';
import type { RawBuilder } from 'kysely';
import { sqliteDatabase, type Database } from '../../src/server/db/database.ts';
import { migrate, migrations } from '../../src/server/db/migrations.ts';
import { FEW_MATCHES, ScanRepo, worklistSql } from '../../src/server/db/repos/scans.ts';
import { batchChoicesSql, formatChoicesSql, uploaderChoicesSql } from '../../src/server/db/repos/scans-filter-choices.ts';
import { listQuery } from '../../src/server/routes/scans-query.ts';
import { insertScans } from './scan-rows.ts';

/**
 * These read SQLite's own plans on an in-memory SQLite database: they test the SQLite schema and
 * queries whichever database the suite runs against (the server-pg phase sets
 * WSI_TEST_DATABASE_URL), so there they are skipped as repeats. PostgreSQL's plans are its
 * planner's cost choices, measured by test/bench/scans-query.bench.ts instead (the filter choices'
 * PostgreSQL plans: scans-query-plan-pg.test.ts).
 */
const onPostgres = process.env.WSI_TEST_DATABASE_URL ? 'SQLite query plans: already checked in the SQLite run' : false;

/** A database without ANALYZE statistics, as the server runs it, and the repos' view of it. */
function database(): BetterSqlite3.Database & { wrapped: Database } {
  const db = new BetterSqlite3(':memory:');
  db.pragma('foreign_keys = ON');
  migrate(db);
  db.exec(`INSERT INTO labs (name) VALUES ('A'), ('B');
    INSERT INTO users (username, display_name, password_hash) VALUES ('u1', 'U1', 'x'), ('u2', 'U2', 'x')`);
  return Object.assign(db, { wrapped: sqliteDatabase(db) });
}

/** A worklist query as SQL text and its parameters, for better-sqlite3. */
const compiled = (db: { wrapped: Database }, q: RawBuilder<unknown>): { sql: string; params: unknown[] } => {
  const c = q.compile(db.wrapped.kysely);
  return { sql: c.sql, params: [...c.parameters] };
};
const repoOf = (db: { wrapped: Database }) => new ScanRepo({ db: db.wrapped.kysely, dialect: 'sqlite' });

const inCase = (db: BetterSqlite3.Database, id: number): number =>
  (db.prepare('SELECT in_case AS v FROM scans WHERE id = ?').get(id) as { v: number }).v;

// Every filter, sort and combination the Scans view offers (see wsi-scans/worklist-query.ts).
const shapes = [
  'limit=50',
  'limit=50&offset=5000',
  'sort=name&limit=50',
  'sort=name&dir=desc&limit=50&offset=2000',
  'sort=status&limit=50',
  'status=needs-mpp&limit=50',
  'status=failed,quarantined&limit=50',
  'unassigned=true&limit=50',
  'unassigned=true&sort=name&limit=50',
  'unassigned=true&sort=status&limit=50',
  'unassigned=true&status=needs-mpp&limit=50',
  'batch=plan-batch-3&sort=date&dir=asc&limit=50',
  'uploadedBy=2&limit=50',
  'from=2024-01-02&to=2024-01-03&limit=50',
  'format=hamamatsu-ndpi&limit=50',
  'status=ready&unassigned=true&format=aperio-svs&uploadedBy=1&limit=50',
  'status=ready&format=aperio-svs&uploadedBy=1&limit=50',
  'status=needs-mpp&format=dicom-wsi&sort=name&limit=50',
  'unassigned=true&format=mirax&from=2024-01-02&limit=50',
  'q=slide-1000&limit=50',
  'q=PLAN-CASE-7&unassigned=true&limit=50',
];

const coveredCount = (shape: string): boolean => {
  const filters = [...new URLSearchParams(shape).keys()].filter((k) => !['limit', 'offset', 'sort', 'dir'].includes(k));
  return filters.length <= 1 ? !filters.includes('q') : filters.every((k) => ['status', 'unassigned', 'format', 'uploadedBy'].includes(k));
};

test('every worklist query shape reads an index, never the whole scans table', { skip: onPostgres }, async () => {
  const db = database();
  await insertScans(db.wrapped, { labId: 1, count: 3000, uploaders: [1, 2], caseEvery: 7, prefix: 'plan' });
  for (const shape of shapes) {
    const q = worklistSql(1, listQuery(Object.fromEntries(new URLSearchParams(shape))));
    for (const [kind, query] of [['count', q.count], ['page', q.ids], ['page of few', q.idsOfFew]] as const) {
      const c = compiled(db, query);
      const plan = (db.prepare(`EXPLAIN QUERY PLAN ${c.sql}`).all(...c.params) as { detail: string }[]).map((p) => p.detail);
      // "SCAN s" is a walk over every row of the table; "SEARCH s USING … INDEX" is what we want.
      assert.ok(!plan.some((d) => /^SCAN s\b/.test(d)), `${shape} (${kind}) scans the table: ${plan.join(' | ')}`);
      assert.ok(plan.some((d) => /^SEARCH s USING (COVERING )?INDEX|^SEARCH s USING INTEGER PRIMARY KEY/.test(d)), `${shape} (${kind}): ${plan.join(' | ')}`);
      // Counting reads no rows for one filter, nor for the combination status + not in a case +
      // format + uploader (one index holds them all); other mixes narrow by an index, then read.
      if (kind === 'count' && coveredCount(shape)) assert.ok(plan.some((d) => /USING COVERING INDEX/.test(d)), `${shape} (count) reads rows: ${plan.join(' | ')}`);
    }
  }
  db.close();
});

test('the filter choices (batches, uploaders, formats) search indexes, never scan the scans table', { skip: onPostgres }, async () => {
  const db = database();
  await insertScans(db.wrapped, { labId: 1, count: 3000, uploaders: [1, 2], caseEvery: 7, prefix: 'plan' });
  await insertScans(db.wrapped, { labId: 2, count: 3000, uploaders: [1], prefix: 'other' });
  for (const [name, query] of [['batches', batchChoicesSql(1, 50)], ['uploaders', uploaderChoicesSql(1)], ['formats', formatChoicesSql(1)]] as const) {
    const c = compiled(db, query);
    const plan = (db.prepare(`EXPLAIN QUERY PLAN ${c.sql}`).all(...c.params) as { detail: string }[]).map((p) => p.detail);
    // Every read of scans (whatever its alias) is an index search; users are looked up by id.
    const onScans = plan.filter((d) => /^(SCAN|SEARCH) (scans|[sfpc])\b/.test(d));
    assert.ok(onScans.length > 0, `${name}: ${plan.join(' | ')}`);
    assert.ok(onScans.every((d) => /^SEARCH \w+ USING (COVERING )?INDEX scans_lab_(id|batch|uploader|format) /.test(d)), `${name}: ${plan.join(' | ')}`);
    assert.ok(!plan.some((d) => /^SCAN u\b/.test(d)), `${name} reads every user: ${plan.join(' | ')}`);
  }
  db.close();
});

test('the page of a few matches is the same, sorted, as the index walk gives', { skip: onPostgres }, async () => {
  const db = database();
  await insertScans(db.wrapped, { labId: 1, count: 3000, uploaders: [1, 2], caseEvery: 7, prefix: 'plan' });
  const repo = repoOf(db);
  for (const shape of ['status=needs-mpp&format=hamamatsu-ndpi&sort=name', 'unassigned=true&status=failed&sort=status&dir=desc', 'batch=plan-batch-3&limit=7&offset=7']) {
    const f = listQuery(Object.fromEntries(new URLSearchParams(shape)));
    const q = worklistSql(1, f);
    const run = (query: RawBuilder<unknown>) => {
      const c = compiled(db, query);
      return (db.prepare(c.sql).all(...c.params) as { id: number }[]).map((r) => r.id);
    };
    const walk = run(q.ids);
    const sorted = run(q.idsOfFew);
    assert.ok(walk.length > 0, shape);
    assert.deepEqual(sorted, walk, shape);
    const page = await repo.list(1, f);
    assert.ok(page.total <= FEW_MATCHES && page.exact, shape);
    assert.deepEqual(page.scans.map((s) => s.id), walk, shape);
  }
  db.close();
});

test('"in a case" follows links, unlinks, a second case, and deleted cases and scans', { skip: onPostgres }, async () => {
  const db = database();
  const { ids } = await insertScans(db.wrapped, { labId: 1, count: 4, uploaders: [1], prefix: 'flag' });
  const [a, b, c] = ids as [number, number, number];
  const newCase = (n: string) => Number(db.prepare(`INSERT INTO cases (lab_id, case_number) VALUES (1, ?)`).run(n).lastInsertRowid);
  const link = db.prepare('INSERT OR IGNORE INTO case_scans (case_id, scan_id, lab_id) VALUES (?, ?, 1)');
  const unlink = db.prepare('DELETE FROM case_scans WHERE case_id = ? AND scan_id = ?');
  const c1 = newCase('C-1');
  const c2 = newCase('C-2');
  link.run(c1, a);
  link.run(c1, a); // ignored: already linked
  link.run(c1, b);
  link.run(c2, b);
  assert.deepEqual([inCase(db, a), inCase(db, b), inCase(db, c)], [1, 1, 0]);
  unlink.run(c1, b);
  assert.equal(inCase(db, b), 1, 'still in C-2');
  unlink.run(c2, b);
  assert.equal(inCase(db, b), 0);
  link.run(c2, c);
  db.prepare('DELETE FROM cases WHERE id = ?').run(c2); // cascades to case_scans
  assert.equal(inCase(db, c), 0);
  db.prepare('DELETE FROM scans WHERE id = ?').run(a); // cascades too; the flag of the others stays
  assert.equal((db.prepare('SELECT count(*) AS n FROM case_scans').get() as { n: number }).n, 0);
  const repo = repoOf(db);
  assert.deepEqual((await repo.list(1, listQuery({ unassigned: 'true' }))).scans.map((s) => s.id).sort(), [b, c, ids[3]!].sort());
  db.close();
});

test('the migration marks the scans already linked to a case', { skip: onPostgres }, async () => {
  const db = new BetterSqlite3(':memory:');
  db.pragma('foreign_keys = ON');
  const step = migrations.findIndex((m) => typeof m === 'string' && m.includes('scans_in_case_link'));
  assert.ok(step > 0);
  migrate(db, step);
  db.exec(`INSERT INTO labs (name) VALUES ('A'); INSERT INTO users (username, display_name, password_hash) VALUES ('u1', 'U1', 'x')`);
  const { ids } = await insertScans(sqliteDatabase(db), { labId: 1, count: 20, uploaders: [1], caseEvery: 7, prefix: 'old' });
  migrate(db);
  const linked = (db.prepare('SELECT id FROM scans WHERE in_case = 1 ORDER BY id').all() as { id: number }[]).map((r) => r.id);
  assert.deepEqual(linked, [ids[0], ids[7], ids[14]]);
  db.close();
});
