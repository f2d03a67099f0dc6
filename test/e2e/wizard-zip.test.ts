import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { screenshot } from './support/browser.ts';
import { fixtures } from './support/server.ts';
import { useServerAndBrowser } from './support/setup.ts';
import { doneScanIds, openImport, pickFiles, recordRequests, serverEnv, sha256Of, storedParts } from './support/wizard.ts';

/**
 * Issue 13: a zipped DICOM folder picked in the wizard. With Direct Upload it goes to the server as
 * it is, where it is unpacked and becomes a scan; without, step 1 says why it cannot be sent.
 */
describe('import wizard: zipped DICOM folder', () => {
  const t = useServerAndBrowser(serverEnv);
  let dir = '';
  let zip = '';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wsi-zip-e2e-'));
    zip = join(dir, 'boxes-series.zip');
    // Zipped by Python's zipfile (not our code): a folder of the two instances of one slide.
    const py = 'import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:\n  for f in sys.argv[2:]: z.write(f, "boxes-series/" + f.split("/")[-1])';
    execFileSync('/usr/bin/python3', ['-c', py, zip, ...['boxes_0.dcm', 'boxes_1.dcm'].map((f) => join(fixtures, 'openslide-python', f))]);
  });

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('without Direct Upload: a clear message; with it: reaches the server and becomes a scan', async () => {
    const page = t.browser.page;
    const requests = recordRequests(page);
    await openImport(page, t.server.url);
    await pickFiles(page, [zip]);
    await page.getByText('Zipped DICOM can only be sent with Direct Upload; unzip it to de-identify it').waitFor({ timeout: 30_000 });
    assert.ok(await page.getByRole('button', { name: 'Next' }).isDisabled(), 'nothing to import without Direct Upload');
    await screenshot(page, 'wizard-zip-1-needs-direct');

    await page.getByRole('switch', { name: 'Direct Upload' }).check();
    await page.getByText(/^1 slide ready from 1 selection/).waitFor();
    assert.equal(await page.locator('wsi-file-select .problems li').count(), 0, 'the message is gone');
    await screenshot(page, 'wizard-zip-1-direct');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('heading', { name: 'Loaded files' }).waitFor();
    await page.locator('wsi-file-list tbody tr', { hasText: 'boxes-series.zip' }).getByText('Zipped DICOM').waitFor();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Start upload' }).click();
    const [scanId] = await doneScanIds(page);
    await screenshot(page, 'wizard-zip-7-done');

    const create = requests.find((r) => r.method === 'POST' && new URL(r.url).pathname.startsWith('/files'));
    const meta = Object.fromEntries((create?.headers['upload-metadata'] ?? '').split(',').map((kv) => {
      const [k, v] = kv.split(' ');
      return [k, Buffer.from(v ?? '', 'base64').toString()];
    }));
    assert.equal(meta.mode, 'direct');
    assert.equal(meta.filename, 'boxes-series.zip');
    const [stored] = await storedParts(t.server.dataDir, scanId!);
    assert.equal(await sha256Of(stored!), await sha256Of(zip), 'the zip is stored as it was sent');
    const scan = await settledScan(page, t.server.url, scanId!);
    assert.ok(scan.status === 'ready' || scan.status === 'needs-mpp', `unpacked into a scan: ${scan.status} ${scan.error ?? ''}`);
    assert.equal(scan.format, 'dicom-wsi');
  });
});

/** The scan once ingest has finished (a zip is unpacked after the upload completes). */
async function settledScan(page: Page, baseUrl: string, id: number): Promise<{ status: string; format: string; error?: string }> {
  const end = Date.now() + 60_000;
  for (;;) {
    const scan = (await (await page.request.get(`${baseUrl}/api/scans/${id}`)).json()).scan;
    if (scan.status !== 'processing' || Date.now() > end) return scan;
    await new Promise((r) => setTimeout(r, 250));
  }
}
