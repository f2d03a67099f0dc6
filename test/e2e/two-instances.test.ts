import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBrowser, screenshot, type BrowserSession } from './support/browser.ts';
import { repoRoot, startServer, type RunningServer } from './support/server.ts';
import { startFailoverProxy, type FailoverProxy } from './support/failover-proxy.ts';
import { checkStoredOnce, startThrottledUpload, unthrottle } from './support/throttled-upload.ts';
import { serverEnv } from './support/wizard.ts';
import { createTestDatabase, startPostgresCluster, type PostgresCluster } from '../support/postgres.ts';

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
    const { page, cdp, requests } = await startThrottledUpload(browser, proxy.url, 'two-instances');
    assert.equal(proxy.connections.get(b.port), 0, 'everything went to A until it died');

    await a.stop('SIGKILL');
    await unthrottle(cdp);
    // One tus upload, resumed through B from a non-zero offset; stored bytes equal the original.
    const scanId = await checkStoredOnce(page, dataDir, requests);
    await screenshot(page, 'two-instances-done');
    assert.ok((proxy.connections.get(b.port) ?? 0) > 0, 'B took over the connections');

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
