import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { memberOf, removeDir, startServer, type TestServer } from './support.ts';

let s: TestServer;
before(async () => {
  s = await startServer();
});
after(async () => {
  await s.stop();
  await removeDir(s.config.dataDir);
});

test('rename a case and change its description; a taken number is refused in words', async () => {
  const { client } = await memberOf(s, 'Demo Lab', 'rename-user', 'lab-user');
  const c = ((await (await client.json('/api/cases', 'POST', { caseNumber: 'S26-1' })).json()) as any).case;
  await client.json('/api/cases', 'POST', { caseNumber: 'S26-2' });

  const dup = await client.json('/api/cases', 'POST', { caseNumber: 'S26-2' });
  assert.equal(dup.status, 409);
  assert.deepEqual((await dup.json()) as any, { error: { code: 'CASE_EXISTS', message: 'A case with the number S26-2 already exists.' } });

  const renamed = await client.json(`/api/cases/${c.id}`, 'PATCH', { caseNumber: ' S26-10 ', description: 'left kidney' });
  assert.equal(renamed.status, 200);
  const body = ((await renamed.json()) as any).case;
  assert.deepEqual([body.caseNumber, body.description], ['S26-10', 'left kidney']);
  // Description alone; the same number again is not a clash with itself.
  assert.equal((await client.json(`/api/cases/${c.id}`, 'PATCH', { caseNumber: 'S26-10', description: '' })).status, 200);
  const taken = await client.json(`/api/cases/${c.id}`, 'PATCH', { caseNumber: 'S26-2' });
  assert.equal(taken.status, 409);
  assert.equal(((await taken.json()) as any).error.code, 'CASE_EXISTS');
  assert.equal((await client.json(`/api/cases/${c.id}`, 'PATCH', {})).status, 400);
  assert.equal((await client.json(`/api/cases/${c.id}`, 'PATCH', { caseNumber: '' })).status, 400);

  const viewer = await memberOf(s, 'Demo Lab', 'rename-viewer', 'viewer');
  assert.equal((await viewer.client.json(`/api/cases/${c.id}`, 'PATCH', { caseNumber: 'X' })).status, 403);
  const other = await memberOf(s, 'Other Lab', 'rename-other', 'lab-admin');
  assert.equal((await other.client.json(`/api/cases/${c.id}`, 'PATCH', { caseNumber: 'X' })).status, 404);
  const detail = ((await (await client.fetch(`/api/cases/${c.id}`)).json()) as any).case;
  assert.deepEqual([detail.caseNumber, detail.description], ['S26-10', '']);
});
