import { ImportController } from '../../../src/app/components/wsi-bulk-import/import-controller.ts';
import { currentBatchOf, finishedForm, getSources, loadCurrentBatch, saveBatch, type BatchRecord } from '../../../src/app/state/batch-store.ts';
import { DB_NAME, db, setSetting } from '../../../src/app/state/db.ts';
import { IdbUrlStorage } from '../../../src/upload/idb-url-storage.ts';
import { stagingDir, STAGING_ROOT, sweepStaging } from '../../../src/upload/staging.ts';
import { eq, FakeEngine, fileOf, ok } from './support.ts';

/**
 * Issue 11 item 2: per-user local state on a shared lab PC. Batches, their selections, stored tus
 * URLs and staged OPFS copies belong to the user who made them; discarding or finishing a batch
 * leaves no metadata value or file name in IndexedDB; data from before batches had owners is
 * discarded on upgrade.
 */

const A = 101;
const B = 202;
/** Values the FakeEngine reports for every slide, plus the file names the tests pick. */
const VALUES = ['CMU-1', '12/29/09'];
const NAMES = ['patient-4711.svs', 'ACC-2024-0815.svs'];

/** Every record of every store, as text: what anyone with devtools on this profile could read. */
async function everything(): Promise<string> {
  const d = await db();
  const out: unknown[] = [];
  for (const store of d.objectStoreNames) out.push(store, await d.getAll(store), await d.getAllKeys(store));
  return JSON.stringify(out);
}

async function opfsPath(path: string): Promise<FileSystemDirectoryHandle | FileSystemFileHandle | undefined> {
  const parts = path.split('/');
  let dir = await navigator.storage.getDirectory();
  try {
    for (const p of parts.slice(0, -1)) dir = await dir.getDirectoryHandle(p);
    const last = parts[parts.length - 1];
    return await dir.getDirectoryHandle(last).catch(() => dir.getFileHandle(last));
  } catch {
    return undefined;
  }
}

async function writeOpfs(path: string, text: string): Promise<void> {
  const parts = path.split('/');
  const name = parts.pop()!;
  let dir = await navigator.storage.getDirectory();
  for (const p of parts) dir = await dir.getDirectoryHandle(p, { create: true });
  const w = await (await dir.getFileHandle(name, { create: true })).createWritable();
  await w.write(text);
  await w.close();
}

/** A user's wizard with two picked slides, reviewed (step 3), one staged copy and one stored tus URL. */
async function startedBatch(userId: number): Promise<ImportController> {
  const ctl = new ImportController(new FakeEngine(), { userId });
  await ctl.load();
  await ctl.startOver();
  await ctl.addFiles(NAMES.map((n) => fileOf(n)), '2 files');
  ctl.goto(3);
  const b = ctl.batch!;
  const slide = b.slides[0];
  const path = `${stagingDir(b, slide.id)}/${slide.name}`;
  await writeOpfs(path, 'de-identified bytes');
  slide.staged = { outputs: [{ name: slide.name, opfsPath: path, size: 19, sha256: 'ab', deleted: false }], verifyOk: true, problems: [], sweep: { valuesSearched: 2, hits: 0, ok: true } };
  await new IdbUrlStorage(userId).addUpload(`wsi:${slide.id}:0:ab`, {
    size: 19, metadata: { filename: slide.name, batchId: b.id, slideId: slide.id }, creationTime: new Date().toISOString(), uploadUrl: `${location.origin}/files/test-${userId}`, urlStorageKey: '', parallelUploadUrls: null,
  } as unknown as Parameters<IdbUrlStorage['addUpload']>[1]);
  ctl.changed();
  await new Promise((r) => setTimeout(r, 700)); // the coalesced save
  return ctl;
}

describe('per-user local state', () => {
  it('an IndexedDB from before batches had owners is discarded on upgrade, with its OPFS copies', async () => {
    // Runs first in this page, before anything opened the database at the new version.
    await new Promise<void>((res, rej) => {
      const r = indexedDB.deleteDatabase(DB_NAME);
      r.onsuccess = () => res();
      r.onerror = () => rej(r.error);
    });
    const legacyId = crypto.randomUUID();
    await new Promise<void>((res, rej) => {
      const r = indexedDB.open(DB_NAME, 3);
      r.onupgradeneeded = () => {
        const d = r.result;
        d.createObjectStore('tus-urls', { keyPath: 'key' }).createIndex('fingerprint', 'fingerprint');
        d.createObjectStore('settings');
        d.createObjectStore('batches', { keyPath: 'id' });
        d.createObjectStore('batch-sources', { keyPath: 'id' }).createIndex('batchId', 'batchId');
        const tx = r.transaction!;
        tx.objectStore('batches').put({ id: legacyId, updatedAt: 1, step: 3, slides: [{ id: 's', name: NAMES[0], fields: [{ id: 'f', value: VALUES[0] }] }] });
        tx.objectStore('batch-sources').put({ id: 'src', batchId: legacyId, origin: 'input', label: NAMES[0], entries: [{ path: NAMES[0], size: 1, lastModified: 1 }] });
        tx.objectStore('tus-urls').put({ key: 'k', fingerprint: 'fp', uploadUrl: 'x', size: 1, metadata: { filename: NAMES[0] }, creationTime: '' });
        tx.objectStore('settings').put(legacyId, 'current-batch');
        tx.objectStore('settings').put('kept', 'test-neutral-setting');
      };
      r.onsuccess = () => {
        r.result.close();
        res();
      };
      r.onerror = () => rej(r.error);
    });
    await writeOpfs(`${STAGING_ROOT}/${legacyId}/s/${NAMES[0]}`, 'legacy copy');

    const dump = await everything();
    for (const v of [...VALUES, NAMES[0], legacyId]) ok(!dump.includes(v), `"${v}" gone after the upgrade`);
    eq(await (await db()).get('settings', 'test-neutral-setting'), 'kept', 'settings without values survive');
    await (await db()).delete('settings', 'test-neutral-setting');

    // The first user to sign in gets a new, empty batch — not the unowned one — and its copies go.
    const ctl = new ImportController(new FakeEngine(), { userId: A });
    await ctl.load();
    ok(ctl.batch!.id !== legacyId && ctl.slides.length === 0, 'an empty batch of their own');
    ok(!(await opfsPath(`${STAGING_ROOT}/${legacyId}`)), 'the legacy staging folder was swept');
  });

  it("user B never gets user A's batch, selections, upload URLs or staged copies; A gets it back", async () => {
    const a = await startedBatch(A);
    const aBatch = a.batch!;
    const aSlide = aBatch.slides[0];
    await a.close();

    // B signs in on the same browser profile.
    const b = new ImportController(new FakeEngine(), { userId: B });
    await b.load();
    ok(b.batch!.id !== aBatch.id, 'B starts on a batch of their own');
    eq(b.slides.length, 0, "B's batch is empty");
    eq(b.batch!.step, 1, 'B starts at step 1');
    eq((await getSources({ id: aBatch.id, userId: B })).length, 0, "A's selections are not found with B as owner");
    ok(!(await currentBatchOf(B))?.slides.length, "B's current batch holds nothing of A's");
    eq((await new IdbUrlStorage(B).findAllUploads()).length, 0, "B's queue finds none of A's upload URLs");
    eq((await new IdbUrlStorage(B).findUploadsByFingerprint(`wsi:${aSlide.id}:0:ab`)).length, 0, 'not even by fingerprint');
    await new IdbUrlStorage(B).removeByFingerprint(`wsi:${aSlide.id}:0:ab`);
    eq((await new IdbUrlStorage(A).findAllUploads()).length, 1, "B's queue cannot remove A's URL either");
    const shown = JSON.stringify({ batch: b.batch, sources: b.sources, needed: b.needed });
    for (const v of [...VALUES, ...NAMES]) ok(!shown.includes(v), `B's wizard state shows no "${v}"`);

    // A setting pointing B at A's batch (another tab's bug, a forged record) is not followed.
    await setSetting(`current-batch:${B}`, aBatch.id);
    const forged = await loadCurrentBatch(B);
    ok(forged.id !== aBatch.id && forged.slides.length === 0, "B's current-batch pointing at A's batch gives B a new one");

    // B's staging sweep leaves A's copies alone; A's own sweep keeps them (the batch is A's).
    await sweepStaging(B, new Set());
    ok(await opfsPath(aSlide.staged!.outputs[0].opfsPath), "A's staged copy survives B's sign-in");
    await b.close();

    // A signs in again: the same batch, step, decisions and staged copy.
    const again = new ImportController(new FakeEngine(), { userId: A });
    await again.load();
    eq(again.batch!.id, aBatch.id, 'A is back on the same batch');
    eq(again.batch!.step, 3, 'on the same step');
    eq(again.slides.map((s) => s.name), NAMES, 'with the same slides');
    eq(again.sources.length, 1, 'and the selection');
    ok(await opfsPath(aSlide.staged!.outputs[0].opfsPath), 'staged copy still there after A signed in');
    ok(aSlide.staged!.outputs[0].opfsPath.startsWith(`${STAGING_ROOT}/u${A}/${aBatch.id}/`), `staged under A's folder (${aSlide.staged!.outputs[0].opfsPath})`);
    await again.close();
  });

  it('discarding a batch removes its values, selections, upload URLs (ended on the server) and staged copies', async () => {
    const ctl = await startedBatch(A);
    const batch = ctl.batch!;
    const staged = batch.slides[0].staged!.outputs[0].opfsPath;
    ok((await everything()).includes(VALUES[0]), 'values are stored while the batch is open (the review needs them after a reload)');
    // Another user's batch must survive A's discard untouched.
    const other = await startedBatch(B);
    await other.close();

    const deletes: { url: string; tus: string | null }[] = [];
    const realFetch = window.fetch;
    window.fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
      if (init?.method === 'DELETE') deletes.push({ url: String(input), tus: new Headers(init.headers).get('tus-resumable') });
      return realFetch(input, init);
    };
    try {
      await ctl.discard();
    } finally {
      window.fetch = realFetch;
    }
    eq(deletes, [{ url: `${location.origin}/files/test-${A}`, tus: '1.0.0' }], "A's unfinished upload ended on the server (tus termination), B's not");
    const dump = await everything();
    ok(!dump.includes(batch.id), 'no record of the batch left');
    ok(!(await opfsPath(staged)), 'staged copy removed');
    ok(!(await opfsPath(`${STAGING_ROOT}/u${A}/${batch.id}`)), 'batch staging folder removed');
    eq((await new IdbUrlStorage(A).findAllUploads()).length, 0, "A's upload URLs removed");
    eq((await new IdbUrlStorage(B).findAllUploads()).length, 1, "B's upload URL kept");
    ok((await currentBatchOf(B))?.slides.length === 2, "B's batch kept");
    // Only B's batch holds values now: remove it and nothing identifying is left at all.
    const bCtl = new ImportController(new FakeEngine(), { userId: B });
    await bCtl.load();
    await bCtl.discard();
    const after = await everything();
    for (const v of [...VALUES, ...NAMES]) ok(!after.includes(v), `"${v}" nowhere in IndexedDB after discarding`);
  });

  it('a finished batch keeps which slide became which scan, and no values, names or selections', async () => {
    const ctl = await startedBatch(A);
    const batch = ctl.batch!;
    // As the upload step leaves it when every part is confirmed and the server's check passed.
    batch.uploadStarted = true;
    batch.slides.forEach((s, i) => {
      s.uploads = [{ part: 0, name: s.name, size: s.size, sha256: 'ab', state: 'done', bytesSent: s.size }];
      s.scanId = 40 + i;
      s.serverCheck = { state: 'passed' };
    });
    batch.step = 7;
    ok(await saveBatch(batch), 'saved');

    const dump = await everything();
    for (const v of [...VALUES, ...NAMES, '2 files', batch.uidKey]) ok(!dump.includes(v), `"${v}" not stored once the batch is finished`);
    const stored = (await currentBatchOf(A))!;
    eq(stored.slides.map((s) => [s.name, s.scanId, s.serverCheck?.state]), [['Slide 1', 40, 'passed'], ['Slide 2', 41, 'passed']], 'the Done list survives');
    eq(stored.slides.map((s) => s.fields.length + s.parts.length), [0, 0], 'no fields, no paths');
    eq((await getSources(batch)).length, 0, 'selections (file names) removed');
    eq((await new IdbUrlStorage(A).findAllUploads()).length, 0, 'upload URLs (their metadata names the file) removed');
    // The allowlist: a property the record gains later is not carried into a finished one.
    const extra = finishedForm({ ...batch, note: NAMES[0] } as BatchRecord);
    ok(!JSON.stringify(extra).includes(NAMES[0]), 'unknown properties are dropped');
    await ctl.startOver();
  });

  it('a save arriving after the batch was discarded does not bring it back', async () => {
    const ctl = await startedBatch(A);
    const batch = ctl.batch!;
    const late = structuredClone({ ...batch, slides: batch.slides.map((s) => ({ ...s, staged: undefined })) }) as BatchRecord;
    await ctl.discard();
    ok(!(await saveBatch(late)), 'the late save is refused');
    ok(!(await everything()).includes(batch.id), 'still gone');
  });
});
