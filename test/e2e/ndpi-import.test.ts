import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { openBrowser, screenshot, type BrowserSession } from './support/browser.ts';
import { fixtures, repoRoot, startServer, type RunningServer } from './support/server.ts';
import { doneScanIds, openImport, pickFiles, recordRequests, serverEnv, storedParts } from './support/wizard.ts';

/**
 * Issue 12: the real Hamamatsu NDPI (a DAPI fluorescence slide, NanoZoomer C9600-12) goes through
 * the wizard: listed as "Hamamatsu NDPI" with a thumbnail, explored in the local deep-zoom preview,
 * its macro (which photographs the printed label) offered in Verify images and removed by default,
 * Auto redact, finalize, upload; the server ingests it as hamamatsu-ndpi, the stored file holds
 * none of the sample's identifying values and no macro (OpenSlide), and the scan viewer draws the
 * slide: the brightness pattern of the displayed image matches OpenSlide's rendering of the
 * uploaded file over the same rectangle (a blank, black or misplaced picture fails).
 */
const NAME = 'test3-DAPI-2-387.ndpi';
/** What the sample holds (see test/engine/ndpi.test.ts): serials, dates, device, channel name. */
const IDENTIFYING = ['950291', '950410', '2017:02:07', '2011/05/23', 'C9600-12', 'NDP.scan', 'DAPI 2 (387)', 'Hamamatsu'];
/** Grid of cells over the displayed image whose mean brightness is compared with OpenSlide's. */
const GRID = { cols: 16, rows: 20 };

describe('import wizard: a real Hamamatsu NDPI, Auto redact, upload, viewer', () => {
  let server: RunningServer;
  let browser: BrowserSession;
  let dir: string;

  before(async () => {
    await mkdir(join(repoRoot, 'test-output/screenshots'), { recursive: true });
    dir = await mkdtemp(join(tmpdir(), 'wsi-ndpi-e2e-'));
    await copyFile(join(fixtures, 'hamamatsu', NAME), join(dir, NAME));
    server = await startServer({ env: serverEnv });
    browser = await openBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('pick → Hamamatsu NDPI with thumbnail → local preview → macro removed → upload → hamamatsu-ndpi scan → viewer matches OpenSlide', { timeout: 300_000 }, async (t) => {
    const page = browser.page;
    const requests = recordRequests(page);
    await openImport(page, server.url);

    // 1. Select.
    await pickFiles(page, [join(dir, NAME)]);
    await page.getByText(/1 slides? ready from 1 selection/).waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: 'Next' }).click();

    // 2. Loaded files: one row, labelled as the vendor, with its level 0 size and a thumbnail.
    await page.getByRole('heading', { name: 'Loaded files' }).waitFor();
    const rows = page.locator('wsi-file-list tbody tr');
    assert.equal(await rows.count(), 1);
    const row = await rows.first().innerText();
    assert.match(row, /Hamamatsu NDPI/);
    assert.match(row, /3,968 × 4,864/);
    const thumb = page.locator(`wsi-file-list img[alt="Thumbnail of ${NAME}"]`);
    await thumb.waitFor({ timeout: 30_000 });
    await page.waitForFunction((el: { complete: boolean; naturalWidth: number }) => el.complete && el.naturalWidth > 0, await thumb.elementHandle(), { timeout: 30_000 });
    await screenshot(page, 'ndpi-2-files');

    // The local deep-zoom preview draws the slide's tiles (restart intervals cut into JPEGs).
    await page.getByRole('button', { name: `Deep-zoom preview of ${NAME}` }).click();
    const dialog = page.getByRole('dialog', { name: new RegExp(`Preview: ${NAME.replace(/[.()]/g, '\\$&')}`) });
    await dialog.waitFor();
    await page.locator('wsi-deep-zoom-dialog wsi-viewer[data-loaded]').waitFor({ timeout: 60_000 });
    const preview = await viewerCells(page, 'wsi-deep-zoom-dialog');
    await screenshot(page, 'ndpi-2-preview');
    await dialog.getByRole('button', { name: 'Close' }).click();
    assert.ok(!requests.some((r) => new URL(r.url).pathname.startsWith('/files')), 'the preview uploads nothing');
    await page.getByRole('button', { name: 'Next' }).click();

    // 3. Metadata: Auto redact.
    await page.getByRole('heading', { name: 'Metadata review' }).waitFor();
    await page.getByRole('button', { name: 'Auto redact' }).click();
    await page.getByRole('button', { name: 'Next' }).click();

    // 4. Verify images: the macro (it shows the printed label) is offered and removed by default.
    await page.getByRole('heading', { name: 'Label and overview images' }).waitFor();
    const boxes = await page.getByRole('checkbox', { name: new RegExp(`^Remove Overview \\(macro\\) of ${NAME.slice(0, 10)}`) }).all();
    assert.ok(boxes.length >= 1, 'the macro is offered');
    for (const box of boxes) assert.ok(await box.isChecked(), 'the macro is removed by default');
    await screenshot(page, 'ndpi-4-images');
    await page.getByRole('button', { name: 'Next' }).click();

    // 5. Review, finalize; 6. upload.
    await page.getByRole('heading', { name: 'Review before upload' }).waitFor();
    await page.getByRole('button', { name: 'Finalize' }).click();
    await page.getByRole('button', { name: 'Start upload' }).click();
    const [scanId] = await doneScanIds(page, 180_000);
    assert.ok(scanId, 'one scan');

    // The server ingested it as NDPI; the stored file holds no identifying value and no macro.
    const detail = (await (await page.request.get(`${server.url}/api/scans/${scanId}`)).json()).scan as { status: string; format: string; error?: string };
    assert.equal(detail.format, 'hamamatsu-ndpi', `${detail.status}: ${detail.error}`);
    assert.ok(detail.status !== 'failed' && detail.status !== 'quarantined', detail.status);
    const parts = await storedParts(server.dataDir, scanId!);
    assert.equal(parts.length, 1, parts.join(', '));
    const stored = await readFile(parts[0]!);
    assert.deepEqual(IDENTIFYING.filter((v) => stored.includes(Buffer.from(v, 'latin1'))), [], 'no identifying value in the stored file');
    const ndpiCopy = join(dir, 'stored.ndpi'); // OpenSlide picks its driver by the extension too
    await copyFile(parts[0]!, ndpiCopy);
    const os = openSlideInfo(ndpiCopy);
    assert.equal(os.vendor, 'hamamatsu');
    assert.deepEqual(os.associated, [], 'no macro on the server');

    // 7. The scan page's viewer draws the stored slide; its picture matches OpenSlide's.
    await page.goto(`${server.url}/scans/${scanId}`);
    await page.locator('wsi-scan-details wsi-viewer[data-loaded]').waitFor({ timeout: 60_000 }).catch(async (e) => {
      await screenshot(page, 'ndpi-viewer-failed');
      throw new Error(`${String(e)}\nscan page: ${await page.locator('wsi-scan-details').innerText()}`);
    });
    const shown = await viewerCells(page, 'wsi-scan-details');
    await screenshot(page, 'ndpi-viewer');
    // The preview shows the picked file, the scan page the stored one (same pixels: tile data never moves).
    for (const [what, cells, file] of [['local preview', preview, join(dir, NAME)], ['scan viewer', shown, ndpiCopy]] as const) {
      const ref = openSlideCells(file, cells.rect);
      const r = correlation(cells.means, ref);
      const diff = cells.means.reduce((s, v, i) => s + Math.abs(v - ref[i]!), 0) / ref.length;
      t.diagnostic(`${what}: image rect ${JSON.stringify(cells.rect)}, r=${r.toFixed(3)}, mean |diff|=${diff.toFixed(1)}, reference ${Math.min(...ref).toFixed(0)}–${Math.max(...ref).toFixed(0)}`);
      // Dark background with bright nuclei: the picture has structure, and the same structure.
      assert.ok(Math.max(...ref) - Math.min(...ref) > 20, 'the reference has structure');
      assert.ok(r > 0.95, `${what}: brightness pattern correlates with OpenSlide's (r=${r.toFixed(3)})`);
      assert.ok(diff < 8, `${what}: mean brightness difference per cell ${diff.toFixed(1)} (of 255)`);
    }
  });
});

interface Cells {
  /** The displayed image's rectangle in level-0 pixels (the part inside the canvas). */
  rect: { x: number; y: number; w: number; h: number };
  /** Mean brightness (max of R, G, B: DAPI is blue) of each grid cell over that rectangle, row by row. */
  means: number[];
}

/**
 * Reads the viewer's canvas inside `host` (a component whose shadow root holds a wsi-viewer) and
 * OpenSeadragon's image-to-canvas mapping, and averages the displayed image over a grid.
 */
async function viewerCells(page: Page, host: string): Promise<Cells> {
  // Let OpenSeadragon finish its zoom-to-home animation before reading the mapping.
  await page.waitForTimeout(1500);
  // A locator pierces the shadow roots; no named helper inside (tsx would wrap it in __name, unknown in the page).
  return page.locator(`${host} wsi-viewer`).evaluate((viewerEl: any, grid) => {
    const osd = viewerEl.viewer; // the component's OpenSeadragon instance (private in TypeScript only)
    const canvas = osd.drawer.canvas; // the 2D canvas the user sees (not the navigator's)
    const item = osd.world.getItemAt(0);
    const size = item.getContentSize();
    const ratio = canvas.width / canvas.clientWidth; // canvas pixels per CSS pixel (1 headless)
    const cs = osd.viewport.getContainerSize();
    // OpenSeadragon Points (by cloning one: the module's global is not exposed to the page).
    const pa = osd.viewport.getCenter(true).clone(); pa.x = 0; pa.y = 0;
    const pb = pa.clone(); pb.x = cs.x; pb.y = cs.y;
    // The image rectangle inside the canvas, in level-0 pixels, and where it lies on the canvas.
    const a = item.viewerElementToImageCoordinates(pa);
    const b = item.viewerElementToImageCoordinates(pb);
    const x0 = Math.max(0, a.x), y0 = Math.max(0, a.y), x1 = Math.min(size.x, b.x), y1 = Math.min(size.y, b.y);
    pa.x = x0; pa.y = y0; pb.x = x1; pb.y = y1;
    const c0 = item.imageToViewerElementCoordinates(pa);
    const c1 = item.imageToViewerElementCoordinates(pb);
    const cx0 = c0.x * ratio, cy0 = c0.y * ratio, cw = (c1.x - c0.x) * ratio, ch = (c1.y - c0.y) * ratio;
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    const sums = new Array(grid.cols * grid.rows).fill(0);
    const counts = new Array(grid.cols * grid.rows).fill(0);
    for (let y = Math.ceil(cy0); y < Math.floor(cy0 + ch); y++) {
      const gy = Math.min(grid.rows - 1, Math.floor(((y - cy0) / ch) * grid.rows));
      for (let x = Math.ceil(cx0); x < Math.floor(cx0 + cw); x++) {
        const gx = Math.min(grid.cols - 1, Math.floor(((x - cx0) / cw) * grid.cols));
        const i = (y * canvas.width + x) * 4;
        sums[gy * grid.cols + gx] += Math.max(data[i], data[i + 1], data[i + 2]);
        counts[gy * grid.cols + gx]++;
      }
    }
    return { rect: { x: x0, y: y0, w: x1 - x0, h: y1 - y0 }, means: sums.map((s, i) => s / Math.max(1, counts[i])) };
  }, GRID);
}

/** The same grid over OpenSlide's rendering of `rect` (level-0 pixels), from its best level. */
function openSlideCells(path: string, rect: Cells['rect']): number[] {
  const py = `
import json, sys, openslide
import numpy as np
s = openslide.OpenSlide(sys.argv[1])
r = json.loads(sys.argv[2]); g = json.loads(sys.argv[3])
x, y, w, h = r['x'], r['y'], r['w'], r['h']
ds = max(w / (g['cols'] * 16), 1)
lvl = s.get_best_level_for_downsample(ds)
d = s.level_downsamples[lvl]
im = np.asarray(s.read_region((int(x), int(y)), lvl, (max(1, int(w / d)), max(1, int(h / d)))).convert('RGB')).max(axis=2)
H, W = im.shape
out = []
for j in range(g['rows']):
    for i in range(g['cols']):
        out.append(float(im[j * H // g['rows']:(j + 1) * H // g['rows'], i * W // g['cols']:(i + 1) * W // g['cols']].mean()))
print(json.dumps(out))`;
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', py, path, JSON.stringify(rect), JSON.stringify(GRID)], { encoding: 'utf8', maxBuffer: 16 << 20 })) as number[];
}

function openSlideInfo(path: string): { vendor: string; associated: string[] } {
  const py = 'import sys, json, openslide\ns = openslide.OpenSlide(sys.argv[1])\nprint(json.dumps({"vendor": s.properties.get("openslide.vendor"), "associated": sorted(s.associated_images)}))';
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', py, path], { encoding: 'utf8' })) as { vendor: string; associated: string[] };
}

function correlation(a: number[], b: number[]): number {
  const n = a.length;
  const ma = a.reduce((s, v) => s + v, 0) / n;
  const mb = b.reduce((s, v) => s + v, 0) / n;
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < n; i++) {
    ab += (a[i]! - ma) * (b[i]! - mb);
    aa += (a[i]! - ma) ** 2;
    bb += (b[i]! - mb) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}
