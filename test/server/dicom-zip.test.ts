import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { extractDicomZip, instanceName, isZip } from '../../src/server/ingest/dicom-zip.ts';
import { formats } from '../../src/engine/formats/registry.ts';
import { openSlide } from '../../src/engine/open.ts';
import { HttpRangeSource } from '../../src/engine/io/web/http-range-source.ts';
import { fixturesDir, memberOf, partMeta, removeDir, sha256, startServer, tusUpload, waitForScan } from './support.ts';

const dcm0 = join(fixturesDir, 'openslide-python/boxes_0.dcm');
const dcm1 = join(fixturesDir, 'openslide-python/boxes_1.dcm');
/** A whole-slide image of another study: a second slide in the same zip. */
const otherSlide = join(fixturesDir, 'highdicom/sm_image.dcm');
/** DICOM, but a microscopy annotation, not an image. */
const annotations = join(fixturesDir, 'highdicom/sm_annotations.dcm');
const limits = (maxBytes: number, maxEntries = 100) => ({ maxBytes, maxEntries });

async function dicomZip(): Promise<{ zip: Uint8Array; d0: Buffer; d1: Buffer }> {
  const d0 = await readFile(dcm0);
  const d1 = await readFile(dcm1);
  const zip = zipSync({
    'slide/': new Uint8Array(0),
    'slide/boxes_0.dcm': [d0, { level: 6 }],
    'slide/boxes_1.dcm': [d1, { level: 0 }],
    'slide/README.txt': new TextEncoder().encode('scanned on the new scanner'),
    'slide/DICOMDIR': new Uint8Array(200),
  });
  return { zip, d0, d1 };
}

test('a zipped DICOM folder is extracted by streaming: DICOM files kept in order with their hashes, others skipped', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wsi-zip-'));
  try {
    const { zip, d0, d1 } = await dicomZip();
    const zipPath = join(dir, 'upload.zip');
    await writeFile(zipPath, zip);
    assert.equal(await isZip(zipPath), true);
    assert.equal(await isZip(dcm0), false);
    const out = join(dir, 'out');
    const files = await extractDicomZip(zipPath, out, limits(10 * 1024 * 1024));
    assert.deepEqual(files, [
      { path: join(out, instanceName(1)), size: d0.length, sha256: sha256(d0), index: 1 },
      { path: join(out, instanceName(2)), size: d1.length, sha256: sha256(d1), index: 2 },
    ]);
    assert.ok((await readFile(files[0].path)).equals(d0));
    assert.ok((await readFile(files[1].path)).equals(d1));
    assert.deepEqual((await readdir(out)).sort(), [instanceName(1), instanceName(2)]);

    // An entry name that tries to climb out lands inside, under our name.
    const evil = join(dir, 'evil.zip');
    await writeFile(evil, zipSync({ '../../escape.dcm': d0, '/abs/escape2.dcm': d1 }));
    const escaped = await extractDicomZip(evil, join(dir, 'out2'), limits(10 * 1024 * 1024));
    assert.deepEqual(escaped.map((f) => f.path), [join(dir, 'out2', instanceName(1)), join(dir, 'out2', instanceName(2))]);
    assert.deepEqual(await readdir(dir).then((l) => l.filter((n) => n.includes('escape'))), []);

    await assert.rejects(extractDicomZip(zipPath, join(dir, 'out3'), limits(d0.length - 1)), (e: any) => e.code === 'BAD_REQUEST' && /more than/.test(e.message));
    assert.deepEqual((await readdir(dir)).filter((n) => n === 'out3'), [], 'a refused zip leaves nothing behind');
    const noDicom = join(dir, 'nodicom.zip');
    await writeFile(noDicom, zipSync({ 'a.txt': new Uint8Array(300) }));
    await assert.rejects(extractDicomZip(noDicom, join(dir, 'out4'), limits(1e6)), (e: any) => e.code === 'NOT_RECOGNIZED');
    const truncated = join(dir, 'trunc.zip');
    await writeFile(truncated, zip.subarray(0, 3000));
    await assert.rejects(extractDicomZip(truncated, join(dir, 'out5'), limits(1e6)), (e: any) => e.code === 'CORRUPT');
  } finally {
    await removeDir(dir);
  }
});

test('zip bombs and absurd archives are refused before they fill the disk', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wsi-zip-bomb-'));
  try {
    // 64 MiB of zeros behind a DICM preamble deflates to a few tens of KiB.
    const bomb = new Uint8Array(64 * 1024 * 1024);
    bomb.set(new TextEncoder().encode('DICM'), 128);
    const bombZip = zipSync({ 'huge.dcm': [bomb, { level: 9 }] });
    assert.ok(bombZip.length < 1024 * 1024);
    const bombPath = join(dir, 'bomb.zip');
    await writeFile(bombPath, bombZip);
    await assert.rejects(extractDicomZip(bombPath, join(dir, 'out'), limits(8 * 1024 * 1024)), (e: any) => e.code === 'BAD_REQUEST' && /expands to more than 8388608 bytes/.test(e.message));
    assert.deepEqual(await readdir(dir), ['bomb.zip']);

    // Non-DICOM entries count too: skipping them must not make a bomb free.
    const junk = zipSync({ 'a.dcm': await readFile(dcm0), 'zeros.bin': [new Uint8Array(32 * 1024 * 1024), { level: 9 }] });
    const junkPath = join(dir, 'junk.zip');
    await writeFile(junkPath, junk);
    await assert.rejects(extractDicomZip(junkPath, join(dir, 'out'), limits(8 * 1024 * 1024)), (e: any) => e.code === 'BAD_REQUEST');

    const many: Record<string, Uint8Array> = {};
    for (let i = 0; i < 50; i++) many[`f${i}.txt`] = new Uint8Array(1);
    const manyPath = join(dir, 'many.zip');
    await writeFile(manyPath, zipSync(many));
    await assert.rejects(extractDicomZip(manyPath, join(dir, 'out'), limits(1e6, 20)), (e: any) => e.code === 'BAD_REQUEST' && /more than 20 files/.test(e.message));
  } finally {
    await removeDir(dir);
  }
});

const hasDicomDriver = formats.some((f) => f.name === 'dicom-wsi');

/** DCMTK as the oracle: Image Type value 3 (VOLUME, THUMBNAIL, LABEL, OVERVIEW) of an instance. */
function imageFlavour(bytes: Buffer, dir: string): string {
  const p = join(dir, 'probe.dcm');
  writeFileSync(p, bytes);
  const m = /\(0008,0008\) CS \[([^\]]*)\]/.exec(execFileSync('dcmdump', ['+P', '0008,0008', p]).toString());
  return m ? m[1].split('\\')[2] : '';
}

test('Direct Upload of a zipped DICOM folder: the instances become the scan\'s parts, the zip stays as the original', { skip: hasDicomDriver ? false : 'dicom-wsi driver not registered in src/engine/formats/registry.ts yet' }, async () => {
  const s = await startServer();
  const tmp = await mkdtemp(join(tmpdir(), 'wsi-zip-scan-'));
  try {
    const { client } = await memberOf(s, 'Demo Lab', 'zipper', 'lab-user');
    const { zip, d0, d1 } = await dicomZip();
    const { finish } = await tusUpload(client, zip, partMeta(zip, { filename: 'boxes.zip', format: 'dicom-zip', mode: 'direct' }));
    assert.equal(finish.status, 204);
    const scanId = Number(finish.headers.get('x-scan-id'));
    const scan = await waitForScan(client, scanId);
    assert.equal(scan.error, null);
    assert.equal(scan.format, 'dicom-wsi');
    // DCMTK: Total Pixel Matrix Columns/Rows of the volume instance.
    const dump = execFileSync('dcmdump', ['+P', '0048,0006', '+P', '0048,0007', dcm0]).toString();
    const [cols, rows] = [...dump.matchAll(/\(0048,000[67]\) UL (\d+)/g)].map((m) => Number(m[1]));
    assert.equal(scan.width, cols);
    assert.equal(scan.height, rows);

    const detail = ((await (await client.fetch(`/api/scans/${scanId}`)).json()) as any).scan;
    assert.equal(detail.parts, 2, 'the viewer opens two instances, not one zip');
    assert.equal(detail.files.length, 2);
    const served: Buffer[] = [];
    for (const f of detail.files) {
      const r = await client.fetch(f.url);
      assert.equal(r.status, 200);
      const b = Buffer.from(await r.arrayBuffer());
      assert.equal(b.length, f.size);
      assert.equal(sha256(b), f.sha256);
      served.push(b);
    }
    // The pyramid level first, then the thumbnail (the fixture's thumbnail is the larger file).
    assert.ok(served[0].equals(d0) && served[1].equals(d1));
    assert.equal(imageFlavour(served[0], tmp), 'VOLUME');
    assert.equal(imageFlavour(served[1], tmp), 'THUMBNAIL');
    const range = await client.fetch(`/api/scans/${scanId}/file?part=1`, { headers: { range: 'bytes=128-131' } });
    assert.equal(range.status, 206);
    assert.equal(Buffer.from(await range.arrayBuffer()).toString('latin1'), 'DICM');
    assert.equal((await client.fetch(`/api/scans/${scanId}/file?part=2`)).status, 404);

    // Opened as the viewer does: `parts` URLs read through HTTP Range by the engine.
    const realFetch = globalThis.fetch;
    globalThis.fetch = ((url: string, init: RequestInit = {}) => realFetch(url, { ...init, headers: { ...(init.headers as Record<string, string>), cookie: client.cookie } })) as typeof fetch;
    try {
      const sources = [];
      for (let i = 0; i < detail.parts; i++) sources.push(await HttpRangeSource.open(`${s.url}/api/scans/${scanId}/file?part=${i}`, `part ${i}`));
      const slide = await openSlide(sources);
      assert.equal(slide.format, 'dicom-wsi');
      assert.equal(slide.width, cols);
      assert.deepEqual(slide.images.map((i) => i.role).sort(), ['level', 'thumbnail']);
    } finally {
      globalThis.fetch = realFetch;
    }

    assert.deepEqual(detail.original, { size: zip.length, sha256: sha256(zip), url: `/api/scans/${scanId}/original` });
    assert.ok(Buffer.from(await (await client.fetch(detail.original.url)).arrayBuffer()).equals(Buffer.from(zip)));
    const listed = ((await (await client.fetch('/api/scans')).json()) as any).scans.find((x: any) => x.id === scanId);
    assert.equal(listed.parts, 2);

    // The upload side still sees one uploaded part: re-sending the zip is a duplicate, not a conflict.
    const again = await tusUpload(client, zip, partMeta(zip, { slideId: scan.slideId as string, filename: 'boxes.zip', format: 'dicom-zip', mode: 'direct' }));
    assert.equal(again.finish.headers.get('x-part-status'), 'duplicate');

    // Reprocessing extracts afresh and leaves exactly one instance directory.
    assert.equal((await client.json(`/api/scans/${scanId}/reprocess`, 'POST')).status, 202);
    await s.built.ingest.idle();
    const after = ((await (await client.fetch(`/api/scans/${scanId}`)).json()) as any).scan;
    assert.deepEqual(after.files.map((f: any) => f.sha256), detail.files.map((f: any) => f.sha256));
    const labId = s.built.repos.labs.byName('Demo Lab')!.id;
    const scanDir = s.built.storage.abs(s.built.storage.scanDir(labId, scanId));
    assert.equal((await readdir(scanDir)).filter((n) => n.startsWith('instances-')).length, 1);
  } finally {
    await s.stop();
    await removeDir(s.config.dataDir);
    await removeDir(tmp);
  }
});

test('a zip holding two slides and a non-image DICOM: each slide becomes a scan; reprocessing keeps their ids', { skip: hasDicomDriver ? false : 'dicom-wsi driver not registered yet' }, async () => {
  const s = await startServer();
  try {
    const { client } = await memberOf(s, 'Demo Lab', 'zipper2', 'lab-user');
    const d0 = await readFile(dcm0);
    const d1 = await readFile(dcm1);
    const other = await readFile(otherSlide);
    const zip = zipSync({
      'a/annotations.dcm': await readFile(annotations),
      'a/boxes_0.dcm': d0,
      'b/other.dcm': other,
      'a/boxes_1.dcm': d1,
    });
    const { finish } = await tusUpload(client, zip, partMeta(zip, { filename: 'two.zip', format: 'dicom-zip', mode: 'direct' }));
    const scanId = Number(finish.headers.get('x-scan-id'));
    const scan = await waitForScan(client, scanId);
    assert.equal(scan.status, 'ready');
    const detail = ((await (await client.fetch(`/api/scans/${scanId}`)).json()) as any).scan;
    assert.deepEqual(detail.files.map((f: any) => f.sha256), [sha256(d0), sha256(d1)]);
    assert.equal(detail.derived.length, 1, 'the second slide is a scan of its own');
    const secondId: number = detail.derived[0].id;
    assert.match(String(scan.error), new RegExp(`the zip holds 2 slides: this scan is the first; the others are scans ${secondId}$`));

    const second = await waitForScan(client, secondId);
    assert.equal(second.sourceScanId, scanId);
    assert.equal(second.format, 'dicom-wsi');
    assert.equal(second.mode, 'direct');
    assert.equal(second.originalFilename, 'two.zip (slide 2 of 2)');
    assert.equal(second.totalBytes, other.length);
    assert.ok(second.status === 'ready' || second.status === 'needs-mpp', String(second.status));
    const secondDetail = ((await (await client.fetch(`/api/scans/${secondId}`)).json()) as any).scan;
    assert.deepEqual(secondDetail.files.map((f: any) => f.sha256), [sha256(other)]);
    assert.equal(secondDetail.original, undefined, 'the zip is downloadable from the first slide\'s scan');
    // The viewer reads the second slide's own instance, byte for byte.
    const served = Buffer.from(await (await client.fetch(secondDetail.files[0].url)).arrayBuffer());
    assert.ok(served.equals(other));
    const listed = ((await (await client.fetch('/api/scans')).json()) as any).scans.map((x: any) => x.id);
    assert.ok(listed.includes(scanId) && listed.includes(secondId), 'both slides are in the worklist');

    // Files of no slide (the annotation) are not kept; each slide's files live with its own scan.
    const labId = s.built.repos.labs.byName('Demo Lab')!.id;
    const instanceFiles = async (id: number) => {
      const dir = s.built.storage.abs(s.built.storage.scanDir(labId, id));
      const dirs = (await readdir(dir)).filter((n) => n.startsWith('instances-'));
      assert.equal(dirs.length, 1, `one instance directory for scan ${id}`);
      return (await readdir(join(dir, dirs[0]))).length;
    };
    assert.equal(await instanceFiles(scanId), 2);
    assert.equal(await instanceFiles(secondId), 1);

    // Reprocessing the derived slide re-reads its instances; reprocessing the zip keeps the ids.
    assert.equal((await client.json(`/api/scans/${secondId}/reprocess`, 'POST', {})).status, 202);
    assert.equal((await waitForScan(client, secondId)).sourceScanId, scanId);
    assert.equal((await client.json(`/api/scans/${scanId}/reprocess`, 'POST', {})).status, 202);
    await waitForScan(client, scanId);
    const again = ((await (await client.fetch(`/api/scans/${scanId}`)).json()) as any).scan;
    assert.deepEqual(again.derived.map((x: any) => x.id), [secondId]);
    const secondAgain = await waitForScan(client, secondId);
    assert.ok(secondAgain.status === 'ready' || secondAgain.status === 'needs-mpp', String(secondAgain.status));
    assert.equal(await instanceFiles(scanId), 2);
    assert.equal(await instanceFiles(secondId), 1);
  } finally {
    await s.stop();
    await removeDir(s.config.dataDir);
  }
});

test('a DICOM slide sent as one part per instance ingests as one dicom-wsi scan', { skip: hasDicomDriver ? false : 'dicom-wsi driver not registered yet' }, async () => {
  const s = await startServer();
  try {
    const { client } = await memberOf(s, 'Demo Lab', 'dicom-parts', 'lab-user');
    const d0 = await readFile(dcm0);
    const d1 = await readFile(dcm1);
    const first = partMeta(d0, { filename: 'boxes_0.dcm', format: 'dicom-wsi', part: 0, parts: 2 });
    const a = await tusUpload(client, d0, first);
    const b = await tusUpload(client, d1, { ...first, filename: 'boxes_1.dcm', part: 1, sha256: partMeta(d1).sha256 });
    assert.equal(a.finish.headers.get('x-scan-id'), b.finish.headers.get('x-scan-id'));
    const scan = await waitForScan(client, Number(b.finish.headers.get('x-scan-id')));
    assert.equal(scan.error, null);
    // DCMTK: PixelSpacing is in mm (row, column); MPP is µm per pixel.
    const spacing = /\(0028,0030\) DS \[([\d.]+)\\([\d.]+)\]/.exec(execFileSync('dcmdump', [dcm0]).toString());
    assert.ok(spacing, 'fixture carries PixelSpacing');
    assert.equal(scan.status, 'ready');
    assert.ok(Math.abs((scan.mpp as any).x - Number(spacing[2]) * 1000) < 1e-9);
    assert.ok(Math.abs((scan.mpp as any).y - Number(spacing[1]) * 1000) < 1e-9);
    assert.equal(scan.format, 'dicom-wsi');
    assert.equal(scan.parts, 2);
    assert.equal(scan.totalBytes, d0.length + d1.length);
    const detail = ((await (await client.fetch(`/api/scans/${scan.id}`)).json()) as any).scan;
    assert.equal(detail.original, undefined, 'uploaded parts are the viewer\'s parts: no separate original');
  } finally {
    await s.stop();
    await removeDir(s.config.dataDir);
  }
});
