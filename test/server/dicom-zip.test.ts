import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { extractDicomZip, isZip } from '../../src/server/ingest/dicom-zip.ts';
import { formats } from '../../src/engine/formats/registry.ts';
import { fixturesDir, memberOf, partMeta, removeDir, startServer, tusUpload, waitForScan } from './support.ts';

const dcm0 = join(fixturesDir, 'openslide-python/boxes_0.dcm');
const dcm1 = join(fixturesDir, 'openslide-python/boxes_1.dcm');

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

test('a zipped DICOM folder is extracted by streaming: DICOM files kept in order, others skipped, names ours', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wsi-zip-'));
  try {
    const { zip, d0, d1 } = await dicomZip();
    const zipPath = join(dir, 'upload.zip');
    await writeFile(zipPath, zip);
    assert.equal(await isZip(zipPath), true);
    assert.equal(await isZip(dcm0), false);
    const out = join(dir, 'out');
    const paths = await extractDicomZip(zipPath, out, 10 * 1024 * 1024);
    assert.deepEqual(paths, [join(out, 'instance-1.dcm'), join(out, 'instance-2.dcm')]);
    assert.ok((await readFile(paths[0])).equals(d0));
    assert.ok((await readFile(paths[1])).equals(d1));
    assert.deepEqual((await readdir(out)).sort(), ['instance-1.dcm', 'instance-2.dcm']);

    // An entry name that tries to climb out lands inside, under our name.
    const evil = join(dir, 'evil.zip');
    await writeFile(evil, zipSync({ '../../escape.dcm': d0 }));
    const [p] = await extractDicomZip(evil, join(dir, 'out2'), 10 * 1024 * 1024);
    assert.equal(p, join(dir, 'out2', 'instance-1.dcm'));
    assert.deepEqual(await readdir(dir).then((l) => l.filter((n) => n.includes('escape'))), []);

    await assert.rejects(extractDicomZip(zipPath, join(dir, 'out3'), d0.length - 1), (e: any) => e.code === 'BAD_REQUEST' && /more than/.test(e.message));
    const noDicom = join(dir, 'nodicom.zip');
    await writeFile(noDicom, zipSync({ 'a.txt': new Uint8Array(300) }));
    await assert.rejects(extractDicomZip(noDicom, join(dir, 'out4'), 1e6), (e: any) => e.code === 'NOT_RECOGNIZED');
    const truncated = join(dir, 'trunc.zip');
    await writeFile(truncated, zip.subarray(0, 3000));
    await assert.rejects(extractDicomZip(truncated, join(dir, 'out5'), 1e6));
  } finally {
    await removeDir(dir);
  }
});

const hasDicomDriver = formats.some((f) => f.name === 'dicom-wsi');

test('Direct Upload of a zipped DICOM folder ingests the slide inside', { skip: hasDicomDriver ? false : 'dicom-wsi driver not registered in src/engine/formats/registry.ts yet' }, async () => {
  const s = await startServer();
  try {
    const { client } = await memberOf(s, 'Demo Lab', 'zipper', 'lab-user');
    const { zip } = await dicomZip();
    const { finish } = await tusUpload(client, zip, partMeta(zip, { filename: 'boxes.zip', format: 'dicom-zip', mode: 'direct' }));
    assert.equal(finish.status, 204);
    const scan = await waitForScan(client, Number(finish.headers.get('x-scan-id')));
    assert.equal(scan.error, null);
    assert.equal(scan.format, 'dicom-wsi');
    // DCMTK as the oracle: Total Pixel Matrix Columns/Rows of the volume instance.
    const dump = execFileSync('dcmdump', ['+P', '0048,0006', '+P', '0048,0007', dcm0]).toString();
    const [cols, rows] = [...dump.matchAll(/\(0048,000[67]\) UL (\d+)/g)].map((m) => Number(m[1]));
    assert.equal(scan.width, cols);
    assert.equal(scan.height, rows);
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
  } finally {
    await s.stop();
    await removeDir(s.config.dataDir);
  }
});
