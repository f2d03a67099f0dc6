/**
 * The worklist's filter choices (GET /api/scans/filters: recent batches, uploaders, formats) on
 * the database the suite runs against: the same answers as the plain GROUP BY / DISTINCT they
 * replace (on SQLite in the node phase, on PostgreSQL in the server-pg phase), and on PostgreSQL
 * a plan that reads index entries in proportion to the answer, never a sequential scan of scans
 * nor a walk over other labs' rows. SQLite's plans: scans-query-plan.test.ts. Timings:
 * test/bench/scans-query.bench.ts ("filter choices").
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openDatabase, type Database } from '../../src/server/db/database.ts';
import { ScanRepo } from '../../src/server/db/repos/scans.ts';
import { batchChoicesSql, formatChoicesSql, uploaderChoicesSql } from '../../src/server/db/repos/scans-filter-choices.ts';
import { createTestDatabase } from '../support/postgres.ts';
import { insertScans } from './scan-rows.ts';

const pgUrl = process.env.WSI_TEST_DATABASE_URL?.trim() || undefined;
let dir: string;
let pgDb: { url: string; drop(): Promise<void> } | undefined;
let db: Database;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wsi-filter-choices-'));
  if (pgUrl) pgDb = await createTestDatabase(pgUrl);
  db = await openDatabase({ url: pgDb?.url, sqliteFile: join(dir, 'wsi.db') });
});

after(async () => {
  await db?.close();
  await pgDb?.drop();
  await rm(dir, { recursive: true, force: true });
});

/** Labs and users straight into the database (ids returned in the order given). */
async function labsAndUsers(labs: string[], users: string[]): Promise<{ labIds: number[]; userIds: number[] }> {
  const k = db.kysely;
  const labIds = [];
  for (const name of labs) labIds.push(Number((await k.insertInto('labs').values({ name }).returning('id').executeTakeFirstOrThrow()).id));
  const userIds = [];
  for (const username of users) userIds.push(Number((await k.insertInto('users').values({ username, display_name: username, password_hash: 'x' }).returning('id').executeTakeFirstOrThrow()).id));
  return { labIds, userIds };
}

/** The queries the filter choices used before (a GROUP BY / DISTINCT over the whole lab): the reference. */
async function reference(labId: number, limit: number) {
  const batches = (
    await sql<{ batchId: string; scans: number; createdAt: string; uploaderId: number | null }>`
      SELECT g."batchId", g.scans, f.created_at AS "createdAt", f.uploaded_by AS "uploaderId"
      FROM (SELECT batch_id AS "batchId", min(id) AS "firstId", count(*) AS scans FROM scans WHERE lab_id = ${labId} GROUP BY batch_id) g
      JOIN scans f ON f.id = g."firstId" ORDER BY g."firstId" DESC LIMIT ${limit}`.execute(db.kysely)
  ).rows.map((r) => [r.batchId, Number(r.scans), r.createdAt, r.uploaderId === null ? null : Number(r.uploaderId)]);
  const uploaders = (
    await sql<{ id: number; username: string }>`SELECT u.id, u.username FROM users u WHERE u.id IN (SELECT uploaded_by FROM scans WHERE lab_id = ${labId}) ORDER BY u.username, u.id`.execute(db.kysely)
  ).rows.map((r) => ({ id: Number(r.id), username: r.username }));
  const formats = (await sql<{ f: string }>`SELECT DISTINCT coalesce(format, claimed_format) AS f FROM scans WHERE lab_id = ${labId} ORDER BY 1`.execute(db.kysely)).rows.map((r) => r.f);
  return { batches, uploaders, formats };
}

test('the filter choices equal a GROUP BY over the whole lab (interleaved batches, a removed first scan, no uploader)', async () => {
  const { labIds, userIds } = await labsAndUsers(['Choices A', 'Choices B', 'Choices Empty'], ['zed', 'amy', 'bob']);
  const [a, b, empty] = labIds as [number, number, number];
  const [zed, amy, bob] = userIds as [number, number, number];
  const first = await insertScans(db, { labId: a, count: 400, uploaders: [zed, amy], batchSize: 7, prefix: 'ca' });
  await insertScans(db, { labId: b, count: 200, uploaders: [bob], prefix: 'cb' });
  const later = await insertScans(db, { labId: a, count: 120, uploaders: [amy], batchSize: 30, prefix: 'cc' });
  const k = db.kysely;
  // A batch that goes on long after later batches started: it is as new as its first scan.
  await k.updateTable('scans').set({ batch_id: 'ca-batch-3' }).where('id', 'in', later.ids.slice(50, 60)).execute();
  // A batch whose first scan is gone starts at its second; a first scan without an uploader (the
  // account was removed) lists none.
  await k.deleteFrom('scans').where('id', '=', first.ids[70]!).execute();
  await k.updateTable('scans').set({ uploaded_by: null }).where('id', '=', first.ids[77]!).execute();
  await k.updateTable('scans').set({ format: 'zz-late-format' }).where('id', '=', first.ids[5]!).execute();
  await sql`ANALYZE`.execute(k);

  const repo = new ScanRepo({ db: k, dialect: db.dialect });
  for (const lab of [a, b, empty]) {
    for (const limit of [1, 5, 50, 500]) {
      const want = await reference(lab, limit);
      const got = (await repo.batches(lab, limit)).map((r) => [r.batchId, r.scans, r.createdAt, r.uploadedBy?.id ?? null]);
      assert.deepEqual(got, want.batches, `lab ${lab}, ${limit} batches`);
    }
    const want = await reference(lab, 1);
    assert.deepEqual(await repo.facets(lab), { uploaders: want.uploaders, formats: want.formats }, `lab ${lab}`);
  }
  // The fixture does what it says: the checks above saw these cases.
  const choices = await repo.facets(a);
  assert.deepEqual(choices.uploaders.map((u) => u.username), ['amy', 'zed']);
  assert.ok(choices.formats.includes('zz-late-format'));
  assert.ok((await repo.batches(a, 500)).some((x) => x.uploadedBy === null));
  assert.deepEqual(await repo.facets(empty), { uploaders: [], formats: [] });
});

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Actual Rows': number;
  'Actual Loops': number;
  'Rows Removed by Filter'?: number;
  Plans?: PlanNode[];
}
const nodes = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(nodes)];

test('PostgreSQL: the filter choices read index entries for their answer only, not the lab', { skip: pgUrl ? false : 'PostgreSQL only (the server-pg phase sets WSI_TEST_DATABASE_URL)' }, async () => {
  const { labIds, userIds } = await labsAndUsers(['Plan A', 'Plan B'], ['plan-1', 'plan-2']);
  const [a, b] = labIds as [number, number];
  // The measured lab first, then a bigger lab with every newer id: walking the primary key
  // backwards would step over all of B before reaching A's newest batches.
  const SCANS = 5000;
  await insertScans(db, { labId: a, count: SCANS, uploaders: userIds, batchSize: 10, prefix: 'pa' });
  await insertScans(db, { labId: b, count: 15000, uploaders: [userIds[0]!], prefix: 'pb' });
  await sql`ANALYZE`.execute(db.kysely);
  const LIMIT = 50;
  for (const [name, query, maxRead] of [
    // The newest 50 batches of 10: 500 scans walked, as many probes, 500 counted.
    ['batches', batchChoicesSql(a, LIMIT), 4 * LIMIT * 10],
    ['uploaders', uploaderChoicesSql(a), 20],
    ['formats', formatChoicesSql(a), 40],
  ] as const) {
    const plan = (await sql<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>`EXPLAIN (ANALYZE, FORMAT JSON) ${query}`.execute(db.kysely)).rows[0]!['QUERY PLAN'][0].Plan;
    const onScans = nodes(plan).filter((n) => n['Relation Name'] === 'scans');
    const shape = onScans.map((n) => n['Node Type']).join(', ');
    assert.ok(onScans.length > 0, `${name}: no scans node`);
    assert.ok(!onScans.some((n) => n['Node Type'] === 'Seq Scan' || n['Node Type'] === 'Parallel Seq Scan'), `${name} scans the table: ${shape}`);
    const read = onScans.reduce((sum, n) => sum + (n['Actual Rows'] + (n['Rows Removed by Filter'] ?? 0)) * n['Actual Loops'], 0);
    assert.ok(read <= maxRead, `${name} read ${read} scans rows (at most ${maxRead} expected; the lab has ${SCANS}): ${shape}`);
  }
});
