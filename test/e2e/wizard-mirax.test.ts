import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { openBrowser, screenshot, type BrowserSession } from './support/browser.ts';
import { openslideMeanColour, viewerShows } from './support/viewer.ts';
import { repoRoot, startServer, type RunningServer } from './support/server.ts';
import { sharedFixtures } from '../fixtures/node-fixtures.ts';
import { MIRAX_NAME, MIRAX_PLANTED, miraxFixture } from '../fixtures/vendors/mirax.ts';
import { autoRedactToReview, doneScanIds, finalizeAndUpload, openImport, pickDirectory, recordRequests, serverEnv, withoutDirectoryPicker } from './support/wizard.ts';

/**
 * Issue 12: a MIRAX slide (X.mrxs + folder X/) picked as the folder that holds it goes through the
 * wizard with Auto redact: one slide (a text file beside it skipped), downloaded as one zip of the
 * .mrxs and its folder, uploaded as one part per file under a neutral slide name with each part's
 * path inside the slide (never the original folder name, here an accession number), ingested on
 * the server as MIRAX, and shown by the scan viewer (pixel check on the canvas). The stored parts,
 * laid out again by their names, open in OpenSlide as MIRAX without label or macro and hold none
 * of the values planted in the slide. The slide is our own (test/fixtures/vendors/mirax.ts); the
 * real sample lacks two Data files: the second flow agrees to de-identify what is there.
 */
/** The slide's name at the lab: an accession number, which must never reach the server. */
const ACCESSION = 'ACC-2024-0077';

describe('import wizard: a MIRAX slide folder, Auto redact, upload, viewer', () => {
  let server: RunningServer;
  let browser: BrowserSession;
  let pickDir: string;

  before(async () => {
    await mkdir(join(repoRoot, 'test-output/screenshots'), { recursive: true });
    pickDir = join(await mkdtemp(join(tmpdir(), 'wsi-mirax-')), 'Scans');
    await mkdir(join(pickDir, ACCESSION), { recursive: true });
    // The slide and its folder renamed as labs name them: by accession number.
    for (const [rel, bytes] of (await miraxFixture()).files) await writeFile(join(pickDir, rel.replace(MIRAX_NAME, ACCESSION)), bytes);
    await writeFile(join(pickDir, 'notes.txt'), 'scanned on Monday\n');
    server = await startServer({ env: serverEnv });
    browser = await openBrowser();
    await withoutDirectoryPicker(browser.context);
  });

  after(async () => {
    await browser?.close();
    await server?.dispose();
    if (pickDir) await rm(join(pickDir, '..'), { recursive: true, force: true });
  });

  it('folder pick → one slide → zip download → upload with neutral part paths → MIRAX scan → viewer draws tiles', async () => {
    const page = browser.page;
    const requests = recordRequests(page);
    await openImport(page, server.url);

    // 1. Select the folder that holds the .mrxs and its folder: one slide, notes.txt skipped.
    await pickDirectory(page, pickDir);
    await page.getByText(/1 slides? ready from 1 selection/).waitFor({ timeout: 60_000 });
    await screenshot(page, 'mirax-1-select');
    await page.getByRole('button', { name: 'Next' }).click();

    // 2. One row: the slide.
    await page.getByRole('heading', { name: 'Loaded files' }).waitFor();
    assert.equal(await page.locator('wsi-file-list tbody tr').count(), 1);
    await page.getByRole('button', { name: 'Next' }).click();

    // 3. Metadata: Auto redact.
    await page.getByRole('heading', { name: 'Metadata review' }).waitFor();
    await page.getByRole('button', { name: 'Auto redact' }).click();
    await page.getByRole('button', { name: 'Next' }).click();

    // 4. Images: label, macro and thumbnail removed by default.
    await page.getByRole('heading', { name: 'Label and overview images' }).waitFor();
    for (const box of await page.getByRole('checkbox', { name: /^Remove (Label|Overview)/ }).all()) assert.ok(await box.isChecked());
    await page.getByRole('button', { name: 'Next' }).click();

    // 5. Review: the download is one zip: the .mrxs beside its folder, as the engine named them.
    await page.getByRole('heading', { name: 'Review before upload' }).waitFor();
    const zipEvent = page.waitForEvent('download');
    await page.locator('wsi-upload-review button[aria-label^="Download de-identified "]').first().click();
    const zipDownload = await zipEvent;
    assert.match(zipDownload.suggestedFilename(), /\.zip$/);
    const zipPath = join(await mkdtemp(join(tmpdir(), 'wsi-mirax-zip-')), 'slide.zip');
    await zipDownload.saveAs(zipPath);
    const entries = zipNames(zipPath);
    const mrxs = entries.filter((n) => n.endsWith('.mrxs'));
    assert.equal(mrxs.length, 1, entries.join(', '));
    const stem = mrxs[0]!.slice(0, -'.mrxs'.length);
    assert.ok(entries.every((n) => n === mrxs[0] || n.startsWith(`${stem}/`)), `the .mrxs and its folder only: ${entries.join(', ')}`);
    assert.ok(entries.includes(`${stem}/Slidedat.ini`) && entries.includes(`${stem}/Index.dat`));
    const local = unzipped(zipPath);
    assert.equal(openslideVendor(local, mrxs[0]!), 'mirax', 'the downloaded copy opens in OpenSlide as MIRAX');
    assert.deepEqual((await plantedIn(local)).filter((f) => !f.endsWith(ACCESSION)), [], 'no planted value in the downloaded copy');
    await page.getByRole('button', { name: 'Finalize' }).click();

    // 6. Upload: one part per file, each with its path inside the slide under a neutral name.
    await page.getByRole('button', { name: 'Start upload' }).click();
    const [scanId] = await doneScanIds(page, 180_000);
    const sent = requests.filter((r) => r.method === 'POST' && new URL(r.url).pathname === '/files/').map((r) => uploadMetadata(r.headers['upload-metadata']));
    assert.equal(sent.length, entries.length, 'one upload per part');
    for (const md of sent) {
      assert.match(md.path ?? '', /^slide-[0-9a-f]{8}(\.mrxs|\/[^/]+)$/, `neutral part path (${md.path})`);
      assert.equal(md.filename, md.path!.split('/').pop());
      assert.ok(!JSON.stringify(md).includes(ACCESSION), 'the original slide name is never sent');
    }

    // The server ingested it as MIRAX; its parts, laid out by their names, open in OpenSlide.
    const detail = (await (await page.request.get(`${server.url}/api/scans/${scanId}`)).json()).scan;
    assert.equal(detail.format, 'mirax', `${detail.status}: ${detail.error}`);
    assert.ok(detail.status === 'ready' || detail.status === 'needs-mpp', detail.status);
    const layout = await mkdtemp(join(tmpdir(), 'wsi-mirax-stored-'));
    for (const f of detail.files as { name: string; url: string }[]) {
      await mkdir(join(layout, f.name, '..'), { recursive: true });
      await writeFile(join(layout, f.name), Buffer.from(await (await page.request.get(`${server.url}${f.url}`)).body()));
    }
    const storedMrxs = (detail.files as { name: string }[]).find((f) => f.name.endsWith('.mrxs'))!.name;
    assert.equal(openslideVendor(layout, storedMrxs), 'mirax');
    assert.deepEqual(openslideAssociated(layout, storedMrxs).filter((a) => a === 'label' || a === 'macro'), [], 'no label or macro on the server');
    assert.deepEqual(await plantedIn(layout), [], 'no planted value in the stored parts');
    const expectedColour = openslideMeanColour(join(layout, storedMrxs));
    await rm(layout, { recursive: true, force: true });
    await rm(join(zipPath, '..'), { recursive: true, force: true });

    // 7. The scan page's viewer reads the parts through the engine worker and draws tiles.
    await page.goto(`${server.url}/scans/${scanId}`);
    await page.locator('wsi-scan-details').waitFor();
    await viewerShows(page, expectedColour, 'mirax-viewer');
  });
});

describe('import wizard: the real MIRAX sample with two Data files missing, imported with the user\'s agreement', () => {
  let server: RunningServer;
  let browser: BrowserSession;
  let pickDir: string;

  before(async () => {
    pickDir = await mkdtemp(join(tmpdir(), 'wsi-mirax-real-'));
    await cp(join(sharedFixtures, 'mirax'), pickDir, { recursive: true, filter: (src) => !/(LICENSE|\.md)$/i.test(src) });
    server = await startServer({ env: serverEnv });
    browser = await openBrowser();
    await withoutDirectoryPicker(browser.context);
  });

  after(async () => {
    await browser?.close();
    await server?.dispose();
    if (pickDir) await rm(pickDir, { recursive: true, force: true });
  });

  it('says what is missing, asks, and with the box ticked uploads the levels that are there', async () => {
    const page = browser.page;
    await openImport(page, server.url);
    await pickDirectory(page, pickDir);
    await page.getByText(/1 slides? ready from 1 selection/).waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('heading', { name: 'Loaded files' }).waitFor();
    const note = page.locator('wsi-file-list tr.warn [role="note"]');
    assert.match(await note.innerText(), /incomplete: Data0005\.dat, Data0006\.dat are missing/);
    const agree = page.getByRole('checkbox', { name: 'De-identify and upload the levels that are there' });
    assert.equal(await agree.isChecked(), false);
    await agree.check();
    await page.getByRole('button', { name: 'Next' }).click();
    await autoRedactToReview(page);
    const [scanId] = await finalizeAndUpload(page, 180_000);

    const detail = (await (await page.request.get(`${server.url}/api/scans/${scanId}`)).json()).scan;
    assert.equal(detail.format, 'mirax', `${detail.status}: ${detail.error}`);
    assert.ok(detail.status === 'ready' || detail.status === 'needs-mpp', `${detail.status}: ${detail.error}`);
    const layout = await mkdtemp(join(tmpdir(), 'wsi-mirax-real-stored-'));
    for (const f of detail.files as { name: string; url: string }[]) {
      await mkdir(join(layout, f.name, '..'), { recursive: true });
      await writeFile(join(layout, f.name), Buffer.from(await (await page.request.get(`${server.url}${f.url}`)).body()));
    }
    const storedMrxs = (detail.files as { name: string }[]).find((f) => f.name.endsWith('.mrxs'))!.name;
    assert.equal(openslideVendor(layout, storedMrxs), 'mirax');
    assert.deepEqual(openslideAssociated(layout, storedMrxs), [], 'no associated image on the server');
    const expected = openslideMeanColour(join(layout, storedMrxs));
    await rm(layout, { recursive: true, force: true });
    await page.goto(`${server.url}/scans/${scanId}`);
    await page.locator('wsi-scan-details').waitFor();
    await viewerShows(page, expected, 'mirax-real-viewer');
  });
});

/** Planted values (and the accession number) found in any file below `dir`, as latin1 or UTF-16LE. */
async function plantedIn(dir: string): Promise<string[]> {
  const found = new Set<string>();
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else {
        const b = await readFile(p);
        for (const v of [...MIRAX_PLANTED, ACCESSION]) if (b.includes(Buffer.from(v, 'latin1')) || b.includes(Buffer.from(v, 'utf16le'))) found.add(`${e.name}: ${v}`);
      }
    }
  };
  await walk(dir);
  return [...found];
}

function zipNames(path: string): string[] {
  const py = 'import sys, json, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nprint(json.dumps([i.filename for i in z.infolist() if not i.is_dir()]))';
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', py, path], { encoding: 'utf8' })) as string[];
}

function unzipped(path: string): string {
  const dir = join(path, '..', 'unzipped');
  execFileSync('/usr/bin/python3', ['-c', 'import sys, zipfile\nzipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])', path, dir]);
  return dir;
}

function openslideVendor(dir: string, mrxs: string): string {
  return execFileSync('/usr/bin/python3', ['-c', 'import sys, openslide\nprint(openslide.OpenSlide(sys.argv[1]).properties.get("openslide.vendor"))', join(dir, mrxs)], { encoding: 'utf8' }).trim();
}

function openslideAssociated(dir: string, mrxs: string): string[] {
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', 'import sys, json, openslide\nprint(json.dumps(sorted(openslide.OpenSlide(sys.argv[1]).associated_images.keys())))', join(dir, mrxs)], { encoding: 'utf8' })) as string[];
}

/** tus Upload-Metadata: comma-separated "key base64value" pairs. */
function uploadMetadata(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (header ?? '').split(',')) {
    const [k, v] = pair.trim().split(' ');
    if (k) out[k] = Buffer.from(v ?? '', 'base64').toString('utf8');
  }
  return out;
}
