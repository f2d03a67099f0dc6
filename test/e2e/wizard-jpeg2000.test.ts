import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { openBrowser, type BrowserSession } from './support/browser.ts';
import { fixtures, repoRoot, startServer, type RunningServer } from './support/server.ts';
import { openslideMeanColour, viewerShows } from './support/viewer.ts';
import { autoRedactToReview, finalizeAndUpload, openImport, pickDirectory, pickFiles, serverEnv, storedParts } from './support/wizard.ts';

/**
 * Issue 12: JPEG 2000 slides — the TCGA Aperio SVS (compression 33005) and Google's JPEG 2000
 * DICOM — go through the wizard (Auto redact, upload) and the scan viewer draws their tiles in the
 * right colours: the canvas's mean colour matches an independent decoder's rendering of the
 * stored file (OpenSlide for the SVS, Pillow's OpenJPEG on pydicom's frames for the DICOM). Before
 * the WebAssembly codecs these showed a black viewer and no thumbnail.
 */
describe('import wizard: JPEG 2000 slides show tiles in the scan viewer', () => {
  let server: RunningServer;
  let browser: BrowserSession;
  let dir: string;

  before(async () => {
    await mkdir(join(repoRoot, 'test-output/screenshots'), { recursive: true });
    dir = await mkdtemp(join(tmpdir(), 'wsi-j2k-e2e-'));
    await copyFile(join(fixtures, 'histolab/tcga-cr-7395-01a-01-ts1.svs'), join(dir, 'tcga.svs'));
    await mkdir(join(dir, 'dicom'));
    await copyFile(join(fixtures, 'google-dicom/camelyon-jpeg2000.dcm'), join(dir, 'dicom/level-0.dcm'));
    server = await startServer({ env: serverEnv });
  });

  after(async () => {
    await server?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    // A fresh browser per slide: each import starts at step 1 of a new batch.
    browser = await openBrowser();
  });

  afterEach(async () => {
    await browser?.close();
  });

  async function importOne(page: Page, pick: () => Promise<void>): Promise<number> {
    await openImport(page, server.url);
    await pick();
    await page.getByText(/1 slides? ready from 1 selection/).waitFor({ timeout: 60_000 });
    // The Loaded-files thumbnail is drawn from J2K tiles (no thumbnail before the codecs).
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('heading', { name: 'Loaded files' }).waitFor();
    const thumb = page.locator('wsi-file-list wsi-slide-preview img').first();
    await thumb.waitFor({ timeout: 60_000 });
    await page.waitForFunction((el) => (el as unknown as { complete: boolean; naturalWidth: number }).complete && (el as unknown as { naturalWidth: number }).naturalWidth > 0, await thumb.elementHandle(), { timeout: 60_000 });
    await page.getByRole('button', { name: 'Next' }).click();
    await autoRedactToReview(page);
    const [scanId] = await finalizeAndUpload(page, 180_000);
    const detail = (await (await page.request.get(`${server.url}/api/scans/${scanId}`)).json()).scan;
    assert.ok(detail.status === 'ready' || detail.status === 'needs-mpp', `${detail.status}: ${detail.error}`);
    return scanId!;
  }

  it('TCGA Aperio SVS (JPEG 2000 tiles): viewer colours match OpenSlide', async () => {
    const page = browser.page;
    const scanId = await importOne(page, () => pickFiles(page, [join(dir, 'tcga.svs')]));
    const [stored] = await storedParts(server.dataDir, scanId);
    const expected = openslideMeanColour(stored!);
    await page.goto(`${server.url}/scans/${scanId}`);
    await page.locator('wsi-scan-details').waitFor();
    await viewerShows(page, expected, 'j2k-svs-viewer');
  });

  it('JPEG 2000 DICOM: viewer colours match Pillow/OpenJPEG decoding of the stored frames', async () => {
    const page = browser.page;
    const scanId = await importOne(page, () => pickDirectory(page, join(dir, 'dicom')));
    const [stored] = await storedParts(server.dataDir, scanId);
    const expected = dicomMeanColour(stored!);
    await page.goto(`${server.url}/scans/${scanId}`);
    await page.locator('wsi-scan-details').waitFor();
    await viewerShows(page, expected, 'j2k-dicom-viewer');
  });
});

/** Mean RGB over every frame of a JPEG 2000 DICOM, bright pixels only, decoded without our code. */
function dicomMeanColour(path: string): number[] {
  const py = [
    'import io, sys, json',
    'import numpy as np, pydicom',
    'from pydicom.encaps import generate_pixel_data_frame',
    'from PIL import Image',
    'ds = pydicom.dcmread(sys.argv[1])',
    'px = np.concatenate([np.asarray(Image.open(io.BytesIO(f)).convert("RGB")).reshape(-1, 3) for f in generate_pixel_data_frame(ds.PixelData, int(ds.NumberOfFrames))])',
    'px = px[px.sum(axis=1) >= 120]',
    'print(json.dumps(px.mean(axis=0).tolist()))',
  ].join('\n');
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', py, path], { encoding: 'utf8' })) as number[];
}
