import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeTmpDir, repoRoot, generateSlideFile } from '../fixtures/node-fixtures.ts';
import { writeSvsWithBarcode } from '../fixtures/barcode-slides.ts';
import { memberOf, removeDir, startServer, type Client, type TestServer } from '../server/support.ts';
import { startCountingProxy } from './support/counting-proxy.ts';

const exec = promisify(execFile);
const bin = join(repoRoot, 'bin/wsi-import.mjs');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  try {
    const r = await exec(process.execPath, [bin, ...args], { maxBuffer: 64 << 20, env: { ...process.env, ...env } });
    return { code: 0, ...r };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

/** A lab with bulk import, a lab user, and an API token of theirs (C2) in a file. */
async function setup(s: TestServer, dir: string): Promise<{ client: Client; tokenFile: string; token: string }> {
  const { client } = await memberOf(s, 'CLI Lab', 'robot', 'lab-user');
  const r = await client.json('/api/me/tokens', 'POST', { name: 'scanner PC' });
  assert.equal(r.status, 201, await r.clone().text());
  const { token } = (await r.json()) as { token: string };
  const tokenFile = join(dir, 'token');
  await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
  return { client, tokenFile, token };
}

interface ScanJson {
  id: number;
  slideId: string;
  status: string;
  name: string;
  cases: { id: number; caseNumber: string }[];
  caseLink?: { caseNumber: string; state: string } | null;
}

async function labScans(c: Client): Promise<ScanJson[]> {
  const r = await c.fetch('/api/scans?limit=100');
  const j = (await r.json()) as { scans?: ScanJson[]; items?: ScanJson[] };
  const list = j.scans ?? j.items ?? [];
  const out: ScanJson[] = [];
  for (const s of list) out.push(((await (await c.fetch(`/api/scans/${s.id}`)).json()) as { scan: ScanJson }).scan);
  return out.sort((a, b) => a.id - b.id);
}

test('upload: a folder of 3 barcoded slides + manifest → 3 scans in their cases, record with 3 rows; nothing identifying in any request', async () => {
  const tmp = await makeTmpDir();
  const s = await startServer();
  const proxy = await startCountingProxy(s.port);
  try {
    const { client, tokenFile } = await setup(s, tmp.dir);
    const inDir = join(tmp.dir, 'scanner-out');
    await mkdir(inDir);
    const codes = ['BC-1001', 'BC-1002', 'BC-1003'];
    for (const [i, code] of codes.entries()) await writeSvsWithBarcode(join(inDir, `PAT-DOE-${i + 1}.svs`), { text: code, where: 'label' });
    const manifest = join(tmp.dir, 'map.csv');
    await writeFile(manifest, 'barcode,case,name\nBC-1001,S24-001,Slide A\nBC-1002,S24-002,Slide B\nBC-1003,S24-002,Slide C\n');
    const out = join(tmp.dir, 'out');
    const r = await cli(['upload', inDir, '--server', proxy.url, '--out', out, '--manifest', manifest, '--token-file', tokenFile, '--create-cases', '--json']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const j = JSON.parse(r.stdout);
    // No request line or header (Upload-Metadata is base64) carries a barcode or an original file name.
    const sent = proxy.heads().join('\n');
    assert.ok(sent.includes('Upload-Metadata') || sent.toLowerCase().includes('upload-metadata'));
    for (const v of [...codes, 'PAT-DOE', 'PAT-DOE-1.svs', 'PAT-DOE-2.svs', 'PAT-DOE-3.svs']) {
      assert.ok(!sent.includes(v) && !sent.includes(Buffer.from(v).toString('base64')), 'an identifying value was sent');
    }
    assert.ok(sent.includes(Buffer.from('S24-001').toString('base64')), 'the confirmed case number is sent');
    assert.equal(j.ok, true);
    assert.equal(j.results.length, 3);
    const scans = await labScans(client);
    assert.equal(scans.length, 3);
    assert.deepEqual(scans.map((x) => x.status), ['ready', 'ready', 'ready']);
    assert.deepEqual(scans.map((x) => x.name).sort(), ['Slide A', 'Slide B', 'Slide C']);
    const caseOf = (name: string) => scans.find((x) => x.name === name)!.cases.map((c) => c.caseNumber);
    assert.deepEqual(caseOf('Slide A'), ['S24-001']);
    assert.deepEqual(caseOf('Slide B'), ['S24-002']);
    assert.deepEqual(caseOf('Slide C'), ['S24-002']);
    // The original file names never reached the server.
    for (const x of scans) assert.ok(!JSON.stringify(x).includes('PAT-DOE'), 'no original file name on the server');
    // The batch record: JSON, CSV (3 rows), HTML, in the output folder.
    const files = await readdir(out);
    const csv = files.find((f) => f.startsWith('batch-') && f.endsWith('.csv'));
    assert.ok(csv && files.some((f) => f.endsWith('.json') && f.startsWith('batch-')) && files.some((f) => f.endsWith('.html') && f.startsWith('batch-')), files.join(','));
    const rows = (await readFile(join(out, csv), 'utf8')).trim().split(/\r?\n/);
    assert.equal(rows.length, 4, 'header + 3 rows');
    const doc = JSON.parse(await readFile(join(out, files.find((f) => f.startsWith('batch-') && f.endsWith('.json'))!), 'utf8'));
    assert.equal(doc.client, 'cli');
    assert.deepEqual(doc.slides.map((x: { barcodes: { value: string }[] }) => x.barcodes[0]?.value).sort(), codes);
    assert.ok(doc.slides.every((x: { case: { state: string } | null }) => x.case !== null), 'every slide has its case in the record');
    // The server's own record of the batch (C3).
    const b = await client.fetch(`/api/batches/${j.batchId}`);
    assert.equal(b.status, 200);
    const { batch } = (await b.json()) as { batch: { client: string; slides: number; finishedAt: string | null; scans: { caseLink: { state: string } | null }[] } };
    assert.equal(batch.client, 'cli');
    assert.equal(batch.slides, 3);
    assert.ok(batch.finishedAt);
    assert.equal(batch.scans.length, 3);
    assert.deepEqual(batch.scans.map((x) => x.caseLink?.state).sort(), ['created', 'created', 'linked'], 'S24-002 created once, then linked');
    assert.ok(!JSON.stringify(batch).includes('BC-100'), 'no barcode on the server');

    // Re-running the finished batch sends nothing again and ends with the same 3 scans.
    const patched = proxy.patchBytes();
    const again = await cli(['upload', inDir, '--server', proxy.url, '--out', out, '--manifest', manifest, '--token-file', tokenFile, '--create-cases']);
    assert.equal(again.code, 0, again.stderr + again.stdout);
    assert.match(again.stdout, /Resuming batch/);
    assert.match(again.stdout, /already on the server/);
    assert.equal((await labScans(client)).length, 3);
    assert.equal(proxy.patchBytes(), patched, 'nothing sent again');
  } finally {
    await proxy.close();
    await s.stop();
    await removeDir(s.config.dataDir);
    await tmp.cleanup();
  }
});

test('upload: killed mid-way, then re-run → the same scans as one run, 0 bytes sent twice', async () => {
  const tmp = await makeTmpDir();
  const s = await startServer();
  const proxy = await startCountingProxy(s.port);
  try {
    const { client, tokenFile } = await setup(s, tmp.dir);
    const inDir = join(tmp.dir, 'in');
    await mkdir(inDir);
    for (let i = 1; i <= 3; i++) {
      await generateSlideFile(join(inDir, `slide-${i}.svs`), { kind: 'svs', compression: 'jpeg', tilesAcross: 16, tilesDown: 16, levels: 2, label: true, macro: true, aperioBarcode: `K-${i}` });
    }
    const out = join(tmp.dir, 'out');
    const args = ['upload', inDir, '--server', proxy.url, '--out', out, '--token-file', tokenFile];
    const env = { ...process.env, WSI_IMPORT_CHUNK_BYTES: String(64 * 1024) };

    // An uninterrupted run of the same slides into another folder (its own server batch): the reference.
    const refOut = join(tmp.dir, 'ref');
    const ref = await cli(['upload', inDir, '--server', s.url, '--out', refOut, '--token-file', tokenFile, '--json'], { WSI_IMPORT_CHUNK_BYTES: String(64 * 1024) });
    assert.equal(ref.code, 0, ref.stderr);
    const refState = JSON.parse(await readFile(join(refOut, '.wsi-import-state.json'), 'utf8')) as { slides: { sent: { sha256: string; size: number }[] }[] };
    const total = refState.slides.reduce((n, x) => n + x.sent.reduce((m, f) => m + f.size, 0), 0);
    assert.ok(total > 3 * 256 * 1024, `enough bytes to interrupt (${total})`);

    // Kill -9 once the server has received some but not all of the bytes.
    const child = spawn(process.execPath, [bin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (d) => (log += d));
    child.stderr.on('data', (d) => (log += d));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + 60_000;
    while (proxy.patchBytes() < total * 0.4 && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.equal(child.exitCode, null, `the CLI ended before it could be killed:\n${log}`);
    child.kill('SIGKILL');
    await exited;
    const atKill = proxy.patchBytes();
    assert.ok(atKill > 0 && atKill < total, `killed mid-way (${atKill} of ${total})`);
    const before = JSON.parse(await readFile(join(out, '.wsi-import-state.json'), 'utf8')) as { batchId: string; slides: { slideId: string }[] };

    const r = await cli([...args, '--json'], { WSI_IMPORT_CHUNK_BYTES: String(64 * 1024) });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const after = JSON.parse(await readFile(join(out, '.wsi-import-state.json'), 'utf8')) as { batchId: string; slides: { slideId: string; sent: { sha256: string }[] }[] };
    assert.equal(after.batchId, before.batchId);
    assert.deepEqual(after.slides.map((x) => x.slideId).slice(0, before.slides.length), before.slides.map((x) => x.slideId), 'same slide ids as before the kill');
    // Same content as the uninterrupted run, and every byte crossed the wire exactly once.
    assert.deepEqual(after.slides.map((x) => x.sent.map((f) => f.sha256)), refState.slides.map((x) => x.sent.map((f) => f.sha256)));
    assert.equal(proxy.patchBytes(), total, 'PATCH body bytes received == sum of part sizes');
    const batchScans = (await labScans(client)).filter((x) => after.slides.some((y) => y.slideId === x.slideId));
    assert.equal(batchScans.length, 3);
    assert.deepEqual(batchScans.map((x) => x.status), ['ready', 'ready', 'ready']);
  } finally {
    await proxy.close();
    await s.stop();
    await removeDir(s.config.dataDir);
    await tmp.cleanup();
  }
});

test('upload: a bad or missing token → exit 2 with a clear message (the token never printed)', async () => {
  const tmp = await makeTmpDir();
  const s = await startServer();
  try {
    await setup(s, tmp.dir);
    const input = join(tmp.dir, 'a.svs');
    await generateSlideFile(input, { kind: 'svs', compression: 'lzw', label: true });
    const bad = `wsi_${'A'.repeat(43)}`;
    const r = await cli(['upload', input, '--server', s.url, '--out', join(tmp.dir, 'out')], { WSI_TOKEN: bad });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /refused the API token/);
    assert.ok(!r.stderr.includes(bad) && !r.stdout.includes(bad));
    const none = await cli(['upload', input, '--server', s.url, '--out', join(tmp.dir, 'out')], { WSI_TOKEN: '' });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no API token/);
    const malformed = await cli(['upload', input, '--server', s.url, '--out', join(tmp.dir, 'out')], { WSI_TOKEN: 'secret-value-123' });
    assert.equal(malformed.code, 2);
    assert.ok(!malformed.stderr.includes('secret-value-123'));
    assert.equal((await cli(['upload', input, '--out', join(tmp.dir, 'out')], { WSI_TOKEN: bad })).code, 2, 'no --server');
  } finally {
    await s.stop();
    await removeDir(s.config.dataDir);
    await tmp.cleanup();
  }
});

test('upload --direct sends the originals as they are (same bytes, same hash)', async () => {
  const tmp = await makeTmpDir();
  const s = await startServer();
  try {
    const { client, tokenFile } = await setup(s, tmp.dir);
    const input = join(tmp.dir, 'direct.svs');
    await generateSlideFile(input, { kind: 'svs', compression: 'lzw', label: true, macro: true });
    const r = await cli(['upload', input, '--server', s.url, '--out', join(tmp.dir, 'out'), '--token-file', tokenFile, '--direct', '--json']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const scans = await labScans(client);
    assert.equal(scans.length, 1);
    const full = ((await (await client.fetch(`/api/scans/${scans[0]!.id}`)).json()) as { scan: { mode: string; files: { sha256: string; size: number }[] } }).scan;
    assert.equal(full.mode, 'direct');
    const { createHash } = await import('node:crypto');
    assert.equal(full.files[0]!.sha256, createHash('sha256').update(await readFile(input)).digest('hex'));
    assert.equal(full.files[0]!.size, (await stat(input)).size);
    // Nothing de-identified was written.
    assert.ok(!(await readdir(join(tmp.dir, 'out'))).includes('direct.svs'));
  } finally {
    await s.stop();
    await removeDir(s.config.dataDir);
    await tmp.cleanup();
  }
});
