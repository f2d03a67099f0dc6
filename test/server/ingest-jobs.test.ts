/**
 * Ingest jobs in the database (issue 16): claimed once across instances, taken over when the
 * instance that claimed one dies, given up after the attempts run out. On SQLite in the node
 * phase, on PostgreSQL in the pg phase (WSI_TEST_DATABASE_URL): several "instances" are several
 * Database handles (pools) on the same database.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Database } from '../../src/server/db/database.ts';
import { createRepos, type Repos } from '../../src/server/db/repos/index.ts';
import { insertScans } from './scan-rows.ts';
import { createTestDatabase } from '../support/postgres.ts';

interface Shared {
  open(): Promise<{ db: Database; repos: Repos }>;
  close(): Promise<void>;
}

/** One database, opened as often as a test wants (each open = one more instance). */
async function shared(): Promise<Shared> {
  const handles: Database[] = [];
  const pgUrl = process.env.WSI_TEST_DATABASE_URL;
  const pgDb = pgUrl ? await createTestDatabase(pgUrl) : undefined;
  const dir = await mkdtemp(join(tmpdir(), 'wsi-jobs-'));
  const file = join(dir, 'wsi.sqlite');
  return {
    async open() {
      const db = await openDatabase(pgDb ? { url: pgDb.url, sqliteFile: file } : { sqliteFile: file });
      handles.push(db);
      return { db, repos: createRepos(db) };
    },
    async close() {
      for (const h of handles) await h.close();
      await pgDb?.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function scansIn(db: Database, count: number): Promise<{ labId: number; ids: number[] }> {
  const repos = createRepos(db);
  const lab = await repos.labs.create(`jobs-${Math.random().toString(36).slice(2, 8)}`);
  const { ids } = await insertScans(db, { labId: lab.id, count, uploaders: [] });
  return { labId: lab.id, ids };
}

test('each job is claimed by exactly one of several instances claiming at once', async () => {
  const s = await shared();
  try {
    const instances = await Promise.all([s.open(), s.open(), s.open()]);
    const { labId, ids } = await scansIn(instances[0]!.db, 24);
    for (const id of ids) await instances[0]!.repos.ingestJobs.enqueue(labId, id, Date.now());
    const claimed: number[][] = instances.map(() => []);
    await Promise.all(
      instances.map(async ({ repos }, k) => {
        for (;;) {
          const job = await repos.ingestJobs.claim(`instance-${k}`, Date.now(), 60_000, 3);
          if (!job) return;
          claimed[k]!.push(job.scanId);
          assert.equal(job.attempt, 1);
        }
      }),
    );
    const all = claimed.flat().sort((a, b) => a - b);
    assert.deepEqual(all, [...ids].sort((a, b) => a - b), 'every job claimed once, none twice');
    assert.equal(await instances[0]!.repos.ingestJobs.depth(), 24, 'running jobs still count until finished');
    for (const [k, list] of claimed.entries()) for (const id of list) await instances[k]!.repos.ingestJobs.finish(id, `instance-${k}`, Date.now());
    assert.equal(await instances[0]!.repos.ingestJobs.depth(), 0);
  } finally {
    await s.close();
  }
});

test('a job whose instance died is taken over when its lease ends; its attempts run out', async () => {
  const s = await shared();
  try {
    const a = await s.open();
    const b = await s.open();
    const { labId, ids } = await scansIn(a.db, 1);
    const id = ids[0]!;
    await a.repos.ingestJobs.enqueue(labId, id, Date.now(), 'req-12345678');
    const t0 = Date.now();
    const first = await a.repos.ingestJobs.claim('a', t0, 1_000, 2);
    assert.deepEqual(first, { labId, scanId: id, attempt: 1, requestId: 'req-12345678' });
    // A "dies": no renewal, no finish. B cannot take it before the lease ends…
    assert.equal(await b.repos.ingestJobs.claim('b', t0 + 500, 1_000, 2), undefined);
    assert.equal(await a.repos.ingestJobs.renew(id, 'b', t0 + 500, 1_000), false, 'only the owner renews');
    // …and can after it.
    const second = await b.repos.ingestJobs.claim('b', t0 + 1_001, 1_000, 2);
    assert.equal(second?.attempt, 2);
    assert.equal(await a.repos.ingestJobs.renew(id, 'a', t0 + 1_100, 1_000), false, 'A lost it: its renewal fails');
    await a.repos.ingestJobs.finish(id, 'a', t0 + 1_100);
    assert.equal(await a.repos.ingestJobs.depth(), 1, 'a finish by the old owner does not end the new owner\'s job');
    // B dies too: two attempts used, nobody claims it again; it is reported as exhausted.
    assert.equal(await a.repos.ingestJobs.claim('a', t0 + 5_000, 1_000, 2), undefined);
    assert.deepEqual(await a.repos.ingestJobs.exhausted(t0 + 5_000, 2), [{ labId, scanId: id }]);
  } finally {
    await s.close();
  }
});

test('queueing a running job again runs it once more after it ends, never beside it', async () => {
  const s = await shared();
  try {
    const a = await s.open();
    const { labId, ids } = await scansIn(a.db, 1);
    const id = ids[0]!;
    const now = Date.now();
    await a.repos.ingestJobs.enqueue(labId, id, now);
    await a.repos.ingestJobs.enqueue(labId, id, now); // twice while waiting: one job
    assert.equal(await a.repos.ingestJobs.depth(), 1);
    assert.ok(await a.repos.ingestJobs.claim('a', now, 60_000, 3));
    await a.repos.ingestJobs.enqueue(labId, id, now + 1); // a Reprocess while it runs
    assert.equal(await a.repos.ingestJobs.claim('b', now + 2, 60_000, 3), undefined, 'not handed to a second instance while it runs');
    await a.repos.ingestJobs.finish(id, 'a', now + 3);
    const again = await a.repos.ingestJobs.claim('b', now + 4, 60_000, 3);
    assert.equal(again?.scanId, id, 'queued again: runs once more');
    assert.equal(again?.attempt, 1);
    await a.repos.ingestJobs.finish(id, 'b', now + 5);
    assert.equal(await a.repos.ingestJobs.depth(), 0);
  } finally {
    await s.close();
  }
});

test('scans left processing without a job are adopted; a zip\'s derived slides are not while the zip has its job', async () => {
  const s = await shared();
  try {
    const a = await s.open();
    const { labId, ids } = await scansIn(a.db, 10); // row 9 of every 10 is 'processing' (scan-rows.ts)
    const processing = [];
    for (const id of ids) if ((await a.repos.scans.byId(labId, id))?.status === 'processing') processing.push(id);
    assert.equal(processing.length, 1);
    assert.equal(await a.repos.ingestJobs.adoptOrphans(Date.now()), 1);
    assert.equal(await a.repos.ingestJobs.adoptOrphans(Date.now()), 0, 'adopted once');
    const job = await a.repos.ingestJobs.claim('a', Date.now(), 60_000, 3);
    assert.equal(job?.scanId, processing[0]);
    // A slide derived from that scan (a zip), 'processing' while the zip's job runs: left to that job.
    const zip = (await a.repos.scans.byId(labId, processing[0]!))!;
    const derived = await a.repos.scans.derive(zip, 0, 'x (slide 1 of 2)');
    assert.equal(derived.status, 'processing');
    assert.equal(await a.repos.ingestJobs.adoptOrphans(Date.now()), 0);
  } finally {
    await s.close();
  }
});
