import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { parsePartMetadata } from '../../src/server/tus/metadata.ts';
import { encodeMetadata, fixturesDir, memberOf, partMeta, randomUUID, removeDir, sha256, startServer, tusCreate, tusPatch, waitForScan, type Client, type TestServer } from './support.ts';

/**
 * Multi-file slides found by their parts' names (MIRAX: X.mrxs + X/Slidedat.ini, X/Index.dat,
 * X/DataNNNN.dat): each part's path inside the slide travels as tus metadata `path`, is stored
 * with the scan, named to the engine at verification and ingest, and handed to the viewer.
 * A two-instance DICOM slide (opened by content, names do not matter to it) checks the storage
 * and listing of names; random bytes named as MIRAX parts show the names reach the MIRAX driver.
 */

const dcm0 = join(fixturesDir, 'openslide-python/boxes_0.dcm');
const dcm1 = join(fixturesDir, 'openslide-python/boxes_1.dcm');

let s: TestServer;
let client: Client;
before(async () => {
  s = await startServer();
  client = (await memberOf(s, 'Demo Lab', 'named-parts', 'lab-user')).client;
});
after(async () => {
  await s.stop();
  await removeDir(s.config.dataDir);
});

/** One part, created and sent whole; returns the scan id from the finishing PATCH. */
async function send(bytes: Uint8Array, md: Record<string, string | number>): Promise<number> {
  const { res, path } = await tusCreate(client, bytes.length, md);
  assert.equal(res.status, 201, await res.clone().text());
  const fin = await tusPatch(client, path!, 0, bytes);
  assert.equal(fin.status, 204);
  return Number(fin.headers.get('x-scan-id'));
}

const base = { slideId: randomUUID(), part: 0, parts: 1, format: 'mirax', sha256: '0'.repeat(64), mode: 'direct', batchId: 'b1' };

test('metadata `path`: a relative path of plain names ending in filename; anything else refused without echoing it', () => {
  const ok = parsePartMetadata({ ...base, part: '0', parts: '1', filename: 'Slidedat.ini', path: 'slide-1a2b3c4d/Slidedat.ini' });
  assert.equal(typeof ok, 'object');
  assert.equal((ok as { partPath?: string }).partPath, 'slide-1a2b3c4d/Slidedat.ini');
  assert.equal((parsePartMetadata({ ...base, part: '0', parts: '1', filename: 'x.svs' }) as { partPath?: string }).partPath, undefined, 'absent: a plain part');
  const bad: [string, string][] = [
    ['../etc/Slidedat.ini', 'Slidedat.ini'],
    ['/abs/Slidedat.ini', 'Slidedat.ini'],
    ['a//Slidedat.ini', 'Slidedat.ini'],
    ['a\\b/Slidedat.ini', 'Slidedat.ini'],
    ['./Slidedat.ini', 'Slidedat.ini'],
    ['a/b/c/d/e/f/g/h/Slidedat.ini', 'Slidedat.ini'],
    ['a/Index.dat', 'Slidedat.ini'],
    ['a/Slide\u0001dat.ini', 'Slide\u0001dat.ini'],
  ];
  for (const [path, filename] of bad) {
    const r = parsePartMetadata({ ...base, part: '0', parts: '1', filename, path });
    assert.equal(typeof r, 'string', `refused: ${JSON.stringify(path)}`);
    assert.ok(!(r as string).includes(path), 'the message does not echo the value');
  }
});

test('a two-part slide with part paths: names stored and listed per part, scan named by its top folder, ingest opens it', async () => {
  const d0 = await readFile(dcm0);
  const d1 = await readFile(dcm1);
  const slideId = randomUUID();
  const batchId = randomUUID();
  const md = (bytes: Uint8Array, part: number, path: string) => ({ ...partMeta(bytes, { slideId, batchId, part, parts: 2, format: 'dicom-wsi', filename: path.split('/').pop()! }), path });
  // Part 1 first: the scan's name must not depend on which part arrives first.
  const id1 = await send(d1, md(d1, 1, 'ACC-1/boxes_1.dcm'));
  const id0 = await send(d0, md(d0, 0, 'ACC-1/boxes_0.dcm'));
  assert.equal(id0, id1);
  const scan = await waitForScan(client, id0);
  assert.equal(scan.error, null);
  assert.equal(scan.status, 'ready');
  assert.equal(scan.originalFilename, 'ACC-1');
  const detail = ((await (await client.fetch(`/api/scans/${id0}`)).json()) as any).scan;
  assert.deepEqual(detail.files.map((f: any) => [f.part, f.name, f.size, f.sha256]), [
    [0, 'ACC-1/boxes_0.dcm', d0.length, sha256(d0)],
    [1, 'ACC-1/boxes_1.dcm', d1.length, sha256(d1)],
  ]);
  // The viewer's Range reads are per part, whatever the name.
  assert.ok(Buffer.from(await (await client.fetch(`/api/scans/${id0}/file?part=1`)).arrayBuffer()).equals(d1));
});

test('ingest names each part to the engine by its path: the MIRAX driver finds Slidedat.ini by name, and its refusal names the .mrxs', async () => {
  const a = randomBytes(700);
  const b = randomBytes(900);
  const slideId = randomUUID();
  const md = (bytes: Uint8Array, part: number, path: string) => ({ ...partMeta(bytes, { slideId, part, parts: 2, format: 'mirax', filename: path.split('/').pop()! }), path });
  const id = await send(a, md(a, 0, 'S-77.mrxs'));
  await send(b, md(b, 1, 'S-77/Slidedat.ini'));
  const scan = await waitForScan(client, id);
  assert.equal(scan.status, 'failed');
  // Random bytes as Slidedat.ini: the driver got that far only because the part was named so.
  assert.match(String(scan.error), /^S-77\.mrxs: Slidedat\.ini /);
});

test('server verification of de-identified named parts: quarantined in words, no original name in the problems', async () => {
  const a = randomBytes(700);
  const b = randomBytes(900);
  const slideId = randomUUID();
  const md = (bytes: Uint8Array, part: number, path: string) => ({ ...partMeta(bytes, { slideId, part, parts: 2, format: 'mirax', mode: 'deidentified', filename: path.split('/').pop()! }), path });
  const id = await send(a, md(a, 0, 'slide-1a2b3c4d.mrxs'));
  await send(b, md(b, 1, 'slide-1a2b3c4d/Slidedat.ini'));
  const scan = await waitForScan(client, id);
  assert.equal(scan.status, 'quarantined');
  const problems: string[] = (scan.quarantine as any).problems;
  assert.ok(problems.length > 0 && problems.every((p) => !p.includes('Slidedat')), problems.join('\n'));

  // Without paths the client's file name is never used either.
  const other = randomUUID();
  const plain = (bytes: Uint8Array, part: number, filename: string) => partMeta(bytes, { slideId: other, part, parts: 2, format: 'mirax', mode: 'deidentified', filename });
  const id2 = await send(a, { ...plain(a, 0, 'ACC-2.mrxs') });
  await send(b, { ...plain(b, 1, 'Slidedat.ini') });
  const scan2 = await waitForScan(client, id2);
  const problems2: string[] = (scan2.quarantine as any).problems;
  assert.ok(problems2.every((p) => !p.includes('ACC-2')), problems2.join('\n'));
});

test('a path that escapes or does not end in filename is refused at creation (400 BAD_METADATA)', async () => {
  const a = randomBytes(10);
  for (const path of ['../x/a.dat', 'x/b.dat']) {
    const { res } = await tusCreate(client, a.length, { ...partMeta(a, { filename: 'a.dat', format: 'mirax' }), path });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'BAD_METADATA');
  }
  assert.ok(encodeMetadata({ path: 'x' }).startsWith('path '));
});
