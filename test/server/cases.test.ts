import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { memberOf, partMeta, removeDir, startServer, tusUpload, waitForScan, type TestServer } from './support.ts';

let s: TestServer;
before(async () => {
  s = await startServer();
});
after(async () => {
  await s.stop();
  await removeDir(s.config.dataDir);
});

async function scan(c: Parameters<typeof tusUpload>[0], name: string): Promise<number> {
  const b = randomBytes(800);
  const { finish } = await tusUpload(c, b, partMeta(b, { filename: name }));
  const id = Number(finish.headers.get('x-scan-id'));
  await waitForScan(c, id);
  return id;
}

test('create, search, link, unlink cases; unassigned filter follows the links', async () => {
  const { client } = await memberOf(s, 'Demo Lab', 'case-user', 'lab-user');
  const s1 = await scan(client, 'one.svs');
  const s2 = await scan(client, 'two.svs');

  const created = await client.json('/api/cases', 'POST', { caseNumber: 'S24-00123', description: 'left kidney' });
  assert.equal(created.status, 201);
  const c = ((await created.json()) as any).case;
  assert.deepEqual({ ...c, createdAt: undefined }, { id: c.id, caseNumber: 'S24-00123', description: 'left kidney', scanCount: 0, createdAt: undefined });
  await client.json('/api/cases', 'POST', { caseNumber: 'S24-00124' });
  await client.json('/api/cases', 'POST', { caseNumber: 'X-1', description: 'has S24-00123 in text' });
  assert.equal((await client.json('/api/cases', 'POST', { caseNumber: 'S24-00123' })).status, 409);
  assert.equal((await client.json('/api/cases', 'POST', { caseNumber: '' })).status, 400);

  // Exact number first, then other matches.
  const found = ((await (await client.fetch('/api/cases?q=S24-00123')).json()) as any).cases.map((x: any) => x.caseNumber);
  assert.deepEqual(found, ['S24-00123', 'X-1']);
  const prefix = ((await (await client.fetch('/api/cases?q=S24')).json()) as any).cases.map((x: any) => x.caseNumber);
  assert.deepEqual(prefix, ['S24-00123', 'S24-00124', 'X-1']);

  const link = await client.json(`/api/cases/${c.id}/scans`, 'POST', { scanIds: [s1, s2] });
  assert.equal(link.status, 200);
  assert.deepEqual(((await link.json()) as any).scanIds, [s1, s2]);
  // Linking again is harmless.
  assert.equal((await client.json(`/api/cases/${c.id}/scans`, 'POST', { scanIds: [s1] })).status, 200);
  const detail = (await (await client.fetch(`/api/cases/${c.id}`)).json()) as any;
  assert.equal(detail.case.scanCount, 2);
  assert.deepEqual(detail.scans.map((x: any) => x.id).sort(), [s1, s2].sort());
  assert.deepEqual(detail.scans[0].cases, [{ id: c.id, caseNumber: 'S24-00123' }]);

  let unassigned = ((await (await client.fetch('/api/scans?unassigned=true')).json()) as any).scans.map((x: any) => x.id);
  assert.ok(!unassigned.includes(s1) && !unassigned.includes(s2));
  // The scans list searches case numbers too.
  const byCase = ((await (await client.fetch('/api/scans?q=S24-00123')).json()) as any).scans.map((x: any) => x.id).sort();
  assert.deepEqual(byCase, [s1, s2].sort());

  assert.equal((await client.fetch(`/api/cases/${c.id}/scans/${s2}`, { method: 'DELETE' })).status, 204);
  assert.equal((await client.fetch(`/api/cases/${c.id}/scans/${s2}`, { method: 'DELETE' })).status, 404);
  unassigned = ((await (await client.fetch('/api/scans?unassigned=true')).json()) as any).scans.map((x: any) => x.id);
  assert.ok(unassigned.includes(s2) && !unassigned.includes(s1));
});

test('cases and links never cross labs; viewers read but cannot change', async () => {
  const a = await memberOf(s, 'Lab A', 'case-a', 'lab-user');
  const b = await memberOf(s, 'Lab B', 'case-b', 'lab-user');
  const scanA = await scan(a.client, 'a.svs');
  const scanB = await scan(b.client, 'b.svs');
  const caseA = ((await (await a.client.json('/api/cases', 'POST', { caseNumber: 'A-1' })).json()) as any).case;
  // Lab B may reuse the number: case numbers are per lab.
  assert.equal((await b.client.json('/api/cases', 'POST', { caseNumber: 'A-1' })).status, 201);
  assert.equal((await b.client.fetch(`/api/cases/${caseA.id}`)).status, 404);
  assert.deepEqual(((await (await b.client.fetch('/api/cases?q=A-1')).json()) as any).cases.map((x: any) => x.id).includes(caseA.id), false);
  // A scan of lab B cannot be linked into lab A's case, and nothing is linked when one id is bad.
  const cross = await a.client.json(`/api/cases/${caseA.id}/scans`, 'POST', { scanIds: [scanA, scanB] });
  assert.equal(cross.status, 404);
  assert.equal(((await (await a.client.fetch(`/api/cases/${caseA.id}`)).json()) as any).case.scanCount, 0);
  assert.equal((await a.client.json(`/api/cases/${caseA.id}/scans`, 'POST', { scanIds: ['1'] })).status, 400);

  const viewer = await memberOf(s, 'Lab A', 'case-viewer', 'viewer');
  assert.equal((await viewer.client.fetch(`/api/cases/${caseA.id}`)).status, 200);
  assert.equal((await viewer.client.json('/api/cases', 'POST', { caseNumber: 'V-1' })).status, 403);
  assert.equal((await viewer.client.json(`/api/cases/${caseA.id}/scans`, 'POST', { scanIds: [scanA] })).status, 403);
});
