import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { zipSync } from 'fflate';
import { extractDicomZip, instanceName, isZip } from '../../src/server/ingest/dicom-zip.ts';
import { loadConfig } from '../../src/server/config.ts';
import { craftZip, entry, finalBlock, localRecord, storedBlocks, zeroBomb, type CraftEntry } from '../fixtures/zip-craft.ts';
import { formats } from '../../src/engine/formats/registry.ts';
import { openSlide } from '../../src/engine/open.ts';
import { HttpRangeSource } from '../../src/engine/io/web/http-range-source.ts';
import { fixturesDir, memberOf, partMeta, randomUUID, removeDir, sha256, startServer, tusUpload, waitForScan, localStorageOnly } from './support.ts';

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

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

/** What a test may find in a directory after a refused extraction: only its inputs. */
async function leftovers(dir: string, inputs: string[]): Promise<string[]> {
  return (await readdir(dir)).filter((n) => !inputs.includes(n));
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

    await assert.rejects(extractDicomZip(zipPath, join(dir, 'out3'), limits(d0.length - 1)), (e: any) => e.code === 'BAD_REQUEST' && /expands to more than/.test(e.message));
    assert.deepEqual((await readdir(dir)).filter((n) => n === 'out3'), [], 'a refused zip leaves nothing behind');
    const noDicom = join(dir, 'nodicom.zip');
    await writeFile(noDicom, zipSync({ 'a.txt': new Uint8Array(300) }));
    await assert.rejects(extractDicomZip(noDicom, join(dir, 'out4'), limits(1e6)), (e: any) => e.code === 'NOT_RECOGNIZED');
    const truncated = join(dir, 'trunc.zip');
    await writeFile(truncated, zip.subarray(0, 3000));
    await assert.rejects(extractDicomZip(truncated, join(dir, 'out5'), limits(1e6)), (e: any) => e.code === 'CORRUPT');
    assert.deepEqual((await readdir(dir)).filter((n) => /^out[45]$/.test(n)), []);
  } finally {
    await removeDir(dir);
  }
});

test('zips written by other tools: data descriptors (streamed, as Windows and macOS write them) and zip64 records', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wsi-zip-py-'));
  try {
    const d0 = await readFile(dcm0);
    const d1 = await readFile(dcm1);
    // Python's zipfile, written to a pipe (sizes after the data, in data descriptors) and with
    // zip64 extra fields forced on: an implementation we did not write.
    const py = [
      'import sys, zipfile',
      'class Pipe:',
      '    def __init__(s, f): s.f = f',
      '    def write(s, b): return s.f.write(b)',
      '    def flush(s): s.f.flush()',
      'out = open(sys.argv[1], "wb")',
      'with zipfile.ZipFile(Pipe(out), "w", zipfile.ZIP_DEFLATED) as z:',
      '    z.writestr("study/", b"")',
      '    for i, p in enumerate(sys.argv[2:]):',
      '        with z.open(f"study/{i}.dcm", "w", force_zip64=(i == 1)) as w: w.write(open(p, "rb").read())',
      'out.close()',
    ].join('\n');
    const zipPath = join(dir, 'py.zip');
    execFileSync('python3', ['-c', py, zipPath, dcm0, dcm1]);
    const head = await readFile(zipPath);
    assert.equal(head.readUInt16LE(6) & 8, 8, 'the first entry uses a data descriptor');
    const files = await extractDicomZip(zipPath, join(dir, 'out'), limits(10 * MiB));
    assert.deepEqual(files.map((f) => f.sha256), [sha256(d0), sha256(d1)]);
  } finally {
    await removeDir(dir);
  }
});

test('the 1 MB zip holding 1 GiB of zeros is refused before a byte is inflated, with a message naming the scan', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wsi-zip-bomb-'));
  try {
    const bomb = zeroBomb(GiB, true);
    const bombZip = craftZip([{ name: 'ACC-2024-000123 Doe^Jane.dcm', data: bomb.data, method: 8, crc: bomb.crc, size: bomb.size }]);
    assert.ok(bombZip.length < 1.1 * 1e6, `the bomb is ${bombZip.length} bytes`);
    const bombPath = join(dir, 'bomb.zip');
    await writeFile(bombPath, bombZip);
    // The server's default limits: 64 GiB, 10000 entries; the ratio decides.
    await assert.rejects(extractDicomZip(bombPath, join(dir, 'out'), { maxBytes: 64 * GiB, maxEntries: 10000 }, { label: 'scan 7' }), (e: any) => {
      assert.equal(e.code, 'BAD_REQUEST');
      assert.match(e.message, /^scan 7: entry 1 expands 10\d\d times its compressed size \(at most 200\): refused as a possible zip bomb$/);
      assert.doesNotMatch(e.message, /ACC|Doe/, 'the entry\'s name is never in the message');
      return true;
    });
    assert.deepEqual(await leftovers(dir, ['bomb.zip']), []);
    // With the ratio out of the way, the total limit refuses it up front, also by what it declares.
    await assert.rejects(extractDicomZip(bombPath, join(dir, 'out'), { maxBytes: 8 * MiB, maxEntries: 10, maxRatio: Infinity }), (e: any) => e.code === 'BAD_REQUEST' && /the zip expands to more than 8 MiB, the most the server unpacks from one zip/.test(e.message));
    // Per-entry size, likewise.
    await assert.rejects(extractDicomZip(bombPath, join(dir, 'out'), { maxBytes: 64 * GiB, maxEntries: 10, maxRatio: Infinity, maxEntryBytes: 512 * MiB }), (e: any) => /entry 1 expands to 1 GiB, more than the 512 MiB the server takes for one file/.test(e.message));
    assert.deepEqual(await leftovers(dir, ['bomb.zip']), []);
  } finally {
    await removeDir(dir);
  }
});

test('a bomb whose directory lies is stopped while inflating, at the first byte past what it declared', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wsi-zip-liar-'));
  try {
    const bomb = zeroBomb(GiB, true);
    // Declares 1 MiB (a plausible 1:1 ratio): only inflating shows what it is.
    const liarPath = join(dir, 'liar.zip');
    await writeFile(liarPath, craftZip([{ name: 'a.dcm', data: bomb.data, method: 8, crc: bomb.crc, size: MiB }]));
    await assert.rejects(extractDicomZip(liarPath, join(dir, 'out'), { maxBytes: 64 * GiB, maxEntries: 10 }, { label: 'scan 9' }), (e: any) => e.code === 'CORRUPT' && /^scan 9: entry 1 holds more data than the zip's directory says: damaged or forged$/.test(e.message));
    assert.deepEqual(await leftovers(dir, ['liar.zip']), [], 'nothing partial is left');

    // Declares a ratio within bounds (256 MiB of zeros then 2 MiB of noise, ~110:1 overall), but its
    // first part expands 1000:1: the running ratio stops it long before the end.
    const prefix = zeroBomb(256 * MiB, true, false);
    const noise = randomBytes(2 * MiB);
    const data = Buffer.concat([prefix.data, storedBlocks(noise), finalBlock]);
    const size = prefix.size + noise.length;
    assert.ok(size / data.length < 200);
    const sneakyPath = join(dir, 'sneaky.zip');
    await writeFile(sneakyPath, craftZip([{ name: 'a.dcm', data, method: 8, crc: crc32(noise, prefix.crc), size }]));
    await assert.rejects(extractDicomZip(sneakyPath, join(dir, 'out'), { maxBytes: 64 * GiB, maxEntries: 10 }), (e: any) => e.code === 'BAD_REQUEST' && /the zip expands more than 200 times its size: refused as a possible zip bomb/.test(e.message));
    assert.deepEqual(await leftovers(dir, ['liar.zip', 'sneaky.zip']), []);
    // The same entry with a higher ratio allowed is a (strange but) valid file: the bytes are right.
    const files = await extractDicomZip(sneakyPath, join(dir, 'ok'), { maxBytes: 64 * GiB, maxEntries: 10, maxRatio: 1000 });
    assert.equal(files[0]!.size, size);
  } finally {
    await removeDir(dir);
  }
});

test('overlapping entries (one compressed kernel counted many times) are refused; nested zips are never expanded', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wsi-zip-overlap-'));
  try {
    const kernel = zeroBomb(4 * MiB, true);
    const k: CraftEntry = { name: 'k.dcm', data: kernel.data, method: 8, crc: kernel.crc, size: kernel.size };
    const relaxed = { maxBytes: GiB, maxEntries: 100, maxRatio: Infinity };
    // Twenty directory records pointing at the same local header.
    const same = join(dir, 'same.zip');
    await writeFile(same, craftZip([k], Array.from({ length: 20 }, (_, i) => ({ entry: { ...k, name: `s${i}.dcm` }, offset: 0 }))));
    await assert.rejects(extractDicomZip(same, join(dir, 'out'), relaxed), (e: any) => e.code === 'CORRUPT' && /entries of the zip overlap each other/.test(e.message));
    // An entry whose stored data quotes another entry's header and data (the "better zip bomb" layout).
    const quoted = localRecord(k);
    const outer: CraftEntry = { name: 'o.bin', data: quoted, method: 0, crc: crc32(quoted), size: quoted.length };
    const nested = join(dir, 'quoted.zip');
    await writeFile(nested, craftZip([outer], [{ entry: outer, offset: 0 }, { entry: k, offset: 30 + outer.name.length }]));
    await assert.rejects(extractDicomZip(nested, join(dir, 'out'), relaxed), (e: any) => e.code === 'CORRUPT' && /overlap/.test(e.message));
    assert.deepEqual(await leftovers(dir, ['same.zip', 'quoted.zip']), []);

    // A zip inside the zip is just a file that is not DICOM: skipped, never opened.
    const bomb = zeroBomb(GiB, true);
    const innerZip = craftZip([{ name: 'in.dcm', data: bomb.data, method: 8, crc: bomb.crc, size: bomb.size }]);
    const d0 = await readFile(dcm0);
    const outerZip = join(dir, 'outer.zip');
    await writeFile(outerZip, craftZip([entry('inner.zip', innerZip, 0), entry('a.dcm', d0)]));
    const files = await extractDicomZip(outerZip, join(dir, 'out'), { maxBytes: 64 * GiB, maxEntries: 10000 });
    assert.deepEqual(files.map((f) => f.sha256), [sha256(d0)]);
  } finally {
    await removeDir(dir);
  }
});

test('many tiny entries, damaged and unsupported entries, a full disk: each refused with its own clear error, nothing left', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wsi-zip-odd-'));
  const inputs: string[] = [];
  const put = async (name: string, bytes: Uint8Array) => {
    inputs.push(name);
    await writeFile(join(dir, name), bytes);
    return join(dir, name);
  };
  try {
    const d0 = await readFile(dcm0);
    // 20000 folder entries: refused from the end record's count, before the directory is walked.
    const folders = await put('folders.zip', craftZip(Array.from({ length: 20000 }, (_, i) => entry(`d${i}/`, new Uint8Array(0), 0))));
    await assert.rejects(extractDicomZip(folders, join(dir, 'out'), { maxBytes: 64 * GiB, maxEntries: 10000 }, { label: 'scan 3' }), (e: any) => e.code === 'BAD_REQUEST' && e.message === 'scan 3: the zip holds 20000 files, more than the 10000 the server accepts');
    const many: Record<string, Uint8Array> = {};
    for (let i = 0; i < 50; i++) many[`f${i}.txt`] = new Uint8Array(1);
    await assert.rejects(extractDicomZip(await put('many.zip', zipSync(many)), join(dir, 'out'), limits(1e6, 20)), (e: any) => e.code === 'BAD_REQUEST' && /more than the 20 the server accepts/.test(e.message));
    // Ten thousand 1 MiB entries of zeros: each under the ratio floor, together a bomb.
    const mib = entry('z.bin', new Uint8Array(MiB));
    const tiles = await put('tiles.zip', craftZip(Array.from({ length: 2000 }, (_, i) => ({ ...mib, name: `z${i}.bin` }))));
    await assert.rejects(extractDicomZip(tiles, join(dir, 'out'), { maxBytes: 64 * GiB, maxEntries: 10000 }), (e: any) => e.code === 'BAD_REQUEST' && /the zip expands \d+ times its size \(at most 200\)/.test(e.message));
    // Non-DICOM entries count too: skipping them must not make a bomb free.
    const junk = await put('junk.zip', zipSync({ 'a.dcm': d0, 'zeros.bin': [new Uint8Array(32 * MiB), { level: 9 }] }));
    await assert.rejects(extractDicomZip(junk, join(dir, 'out'), { maxBytes: 8 * MiB, maxEntries: 10, maxRatio: Infinity }), (e: any) => e.code === 'BAD_REQUEST');

    const good = entry('a.dcm', d0);
    const badCrc = await put('crc.zip', craftZip([{ ...good, crc: good.crc ^ 1 }]));
    await assert.rejects(extractDicomZip(badCrc, join(dir, 'out'), limits(10 * MiB), { label: 'scan 4' }), (e: any) => e.code === 'CORRUPT' && e.message === 'scan 4: entry 1 is damaged (its checksum does not match)');
    const deflate64 = await put('m9.zip', craftZip([{ ...good, method: 9 }]));
    await assert.rejects(extractDicomZip(deflate64, join(dir, 'out'), limits(10 * MiB)), (e: any) => e.code === 'UNSUPPORTED' && /compression method the server cannot unpack \(9\)/.test(e.message));
    const encrypted = await put('enc.zip', craftZip([{ ...good, flags: 1 }]));
    await assert.rejects(extractDicomZip(encrypted, join(dir, 'out'), limits(10 * MiB)), (e: any) => e.code === 'UNSUPPORTED' && /encrypted/.test(e.message));
    // Free disk is a guard of its own: what the DICOM files declare must fit.
    const fits = await put('fits.zip', craftZip([good]));
    await assert.rejects(extractDicomZip(fits, join(dir, 'out'), { ...limits(10 * MiB), diskBytes: d0.length - 1 }), (e: any) => e.code === 'QUOTA' && /not enough disk space on the server to unpack it/.test(e.message));
    assert.deepEqual(await leftovers(dir, inputs), []);
    assert.equal((await extractDicomZip(fits, join(dir, 'out'), { ...limits(10 * MiB), diskBytes: d0.length })).length, 1);
  } finally {
    await removeDir(dir);
  }
});

test('a disk that fills up while unpacking: QUOTA with a clear message, nothing partial left', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wsi-zip-full-'));
  const mnt = join(dir, 'small-disk');
  await mkdir(mnt);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt], { stdio: 'ignore' });
  } catch {
    await removeDir(dir);
    t.skip('mounting a tmpfs is not allowed here');
    return;
  }
  try {
    const content = Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), randomBytes(8 * MiB)]);
    const zipPath = join(dir, 'big.zip');
    await writeFile(zipPath, craftZip([entry('a.dcm', content, 0)]));
    await assert.rejects(extractDicomZip(zipPath, join(mnt, 'out'), limits(64 * MiB), { label: 'scan 5' }), (e: any) => e.code === 'QUOTA' && e.message === 'scan 5: the server ran out of disk space while unpacking it');
    assert.deepEqual(await readdir(mnt), []);
  } finally {
    execFileSync('umount', [mnt]);
    await removeDir(dir);
  }
});

test('the default extract limit is a fixed 64 GiB, not the upload limit; WSI_MAX_EXTRACT_BYTES overrides it', () => {
  assert.equal(loadConfig({}).maxExtractBytes, 64 * GiB);
  assert.equal(loadConfig({ WSI_MAX_UPLOAD_BYTES: '1000' }).maxExtractBytes, 64 * GiB);
  assert.equal(loadConfig({ WSI_MAX_UPLOAD_BYTES: String(200 * GiB) }).maxExtractBytes, 64 * GiB);
  assert.equal(loadConfig({ WSI_MAX_EXTRACT_BYTES: '5000' }).maxExtractBytes, 5000);
  assert.throws(() => loadConfig({ WSI_MAX_EXTRACT_BYTES: '0' }), /WSI_MAX_EXTRACT_BYTES/);
});

const hasDicomDriver = formats.some((f) => f.name === 'dicom-wsi');

/** DCMTK as the oracle: Image Type value 3 (VOLUME, THUMBNAIL, LABEL, OVERVIEW) of an instance. */
function imageFlavour(bytes: Buffer, dir: string): string {
  const p = join(dir, 'probe.dcm');
  writeFileSync(p, bytes);
  const m = /\(0008,0008\) CS \[([^\]]*)\]/.exec(execFileSync('dcmdump', ['+P', '0008,0008', p]).toString());
  return m ? m[1].split('\\')[2] : '';
}

test('Direct Upload of a zipped DICOM folder: the instances become the scan\'s parts, the zip stays as the original', { skip: hasDicomDriver ? localStorageOnly('lists the scan folder for its extracted instances').skip : 'dicom-wsi driver not registered in src/engine/formats/registry.ts yet' }, async () => {
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
    const labId = (await s.built.repos.labs.byName('Demo Lab'))!.id;
    const scanDir = s.built.storage.abs(s.built.storage.scanDir(labId, scanId));
    assert.equal((await readdir(scanDir)).filter((n) => n.startsWith('instances-')).length, 1);
  } finally {
    await s.stop();
    await removeDir(s.config.dataDir);
    await removeDir(tmp);
  }
});

test('a zip holding two slides and a non-image DICOM: each slide becomes a scan; reprocessing keeps their ids', { skip: hasDicomDriver ? localStorageOnly('lists the scan folder for its extracted instances').skip : 'dicom-wsi driver not registered yet' }, async () => {
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
    const labId = (await s.built.repos.labs.byName('Demo Lab'))!.id;
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
    // A scan shows ready before the previous run's directory is removed (viewers may still read
    // it): wait for the queue, not the status, before counting directories.
    await s.built.ingest.idle();
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

test('Direct Upload of a zip bomb: its scan fails alone with a clear error naming it, no files left; the zip beside it imports', { skip: hasDicomDriver ? localStorageOnly('lists the scan folder for its extracted instances').skip : 'dicom-wsi driver not registered yet' }, async () => {
  const s = await startServer();
  try {
    const { client, labId } = await memberOf(s, 'Demo Lab', 'bomber', 'lab-user');
    const bomb = zeroBomb(GiB, true);
    const bombZip = craftZip([{ name: 'ACC-2024-000123 Doe^Jane/slide.dcm', data: bomb.data, method: 8, crc: bomb.crc, size: bomb.size }]);
    const { zip } = await dicomZip();
    const batchId = randomUUID();
    const bad = await tusUpload(client, bombZip, partMeta(bombZip, { filename: 'study-a.zip', format: 'dicom-zip', mode: 'direct', batchId }));
    const good = await tusUpload(client, zip, partMeta(zip, { filename: 'study-b.zip', format: 'dicom-zip', mode: 'direct', batchId }));
    assert.equal(bad.finish.status, 204);
    const badId = Number(bad.finish.headers.get('x-scan-id'));
    const goodId = Number(good.finish.headers.get('x-scan-id'));
    const failed = await waitForScan(client, badId);
    assert.equal(failed.status, 'failed');
    assert.match(String(failed.error), new RegExp(`^scan ${badId}: entry 1 expands 10\\d\\d times its compressed size \\(at most 200\\): refused as a possible zip bomb$`));
    const ok = await waitForScan(client, goodId);
    assert.equal(ok.status, 'ready', String(ok.error));
    // Nothing was unpacked for the bomb: only the uploaded zip is kept (as the original).
    const scanDir = s.built.storage.abs(s.built.storage.scanDir(labId, badId));
    assert.deepEqual((await readdir(scanDir)).filter((n) => n.startsWith('instances-')), []);
    // A reprocess refuses it the same way.
    assert.equal((await client.json(`/api/scans/${badId}/reprocess`, 'POST', {})).status, 202);
    assert.equal((await waitForScan(client, badId)).error, failed.error);
  } finally {
    await s.stop();
    await removeDir(s.config.dataDir);
  }
});
