import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBrowser, screenshot, type BrowserSession } from './support/browser.ts';
import { repoRoot, startServer, type RunningServer } from './support/server.ts';
import { startFailoverProxy, type FailoverProxy } from './support/failover-proxy.ts';
import { THROTTLED_SLIDE, checkStoredOnce, startThrottledUpload, unthrottle } from './support/throttled-upload.ts';
import { serverEnv, storedParts } from './support/wizard.ts';
import { createTestDatabase, startPostgresCluster, type PostgresCluster } from '../support/postgres.ts';
import { missingS3ServerBinaries, startS3Server, type S3Server } from '../support/s3-server.ts';
import { S3ObjectStore } from '../../src/server/storage/s3-object-store.ts';
import type { S3StorageConfig } from '../../src/server/storage/storage-config.ts';

/**
 * Where the two instances keep uploads and scans: the SAME place, or the failover proves nothing.
 * `dataDirs` undefined gives each instance its own temp folder (nothing shared through the disk).
 */
interface SharedStorage {
  env: Record<string, string>;
  dataDirs: [string, string] | undefined;
  /**
   * Whether bytes A received before it died survive it: a file grows with every write; S3Store
   * keeps only whole 16 MiB parts or a PATCH's end, so the 1.9 MB slide's one cut PATCH is lost
   * and B takes the upload A created from offset 0 (the browser replays the PATCH to B).
   */
  keepsCutBytes: boolean;
  /** The stored bytes of a scan's first part. */
  readStored(scanId: number): Promise<Uint8Array>;
  /** What is left of a tus upload (its data and metadata) after it finished. */
  uploadLeftovers(uploadId: string): Promise<string[]>;
  close(): Promise<void>;
}

async function sharedFolder(): Promise<SharedStorage> {
  const dir = await mkdtemp(join(tmpdir(), 'wsi-e2e-shared-'));
  return {
    env: {},
    dataDirs: [dir, dir],
    keepsCutBytes: true,
    readStored: async (scanId) => readFile((await storedParts(dir, scanId))[0]!),
    uploadLeftovers: async (id) => (await readdir(join(dir, 'uploads')).catch(() => [] as string[])).filter((n) => n.startsWith(id)),
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

/** One bucket (a fresh prefix in it) behind both instances; a real RADOS Gateway unless the run gives one. */
async function sharedBucket(): Promise<SharedStorage> {
  const given = process.env.WSI_TEST_STORAGE_URL?.startsWith('s3://') ? new URL(process.env.WSI_TEST_STORAGE_URL) : undefined;
  let s3: S3Server | undefined;
  const conn = given
    ? { bucket: given.host, endpoint: process.env.WSI_S3_ENDPOINT!, region: process.env.WSI_S3_REGION ?? 'us-east-1', accessKeyId: process.env.WSI_S3_ACCESS_KEY_ID!, secretAccessKey: process.env.WSI_S3_SECRET_ACCESS_KEY! }
    : (s3 = await startS3Server());
  const prefix = `e2e-${randomBytes(4).toString('hex')}/`;
  const cfg: S3StorageConfig = { kind: 's3', bucket: conn.bucket, prefix, endpoint: conn.endpoint, region: conn.region, credentials: { accessKeyId: conn.accessKeyId, secretAccessKey: conn.secretAccessKey }, forcePathStyle: true };
  const objects = new S3ObjectStore(cfg);
  const keysUnder = async (p: string) => {
    const keys: string[] = [];
    for await (const o of objects.list(p)) keys.push(o.key);
    return keys;
  };
  return {
    env: {
      WSI_STORAGE_URL: `s3://${conn.bucket}/${prefix}`,
      WSI_S3_ENDPOINT: conn.endpoint,
      WSI_S3_REGION: conn.region,
      WSI_S3_ACCESS_KEY_ID: conn.accessKeyId,
      WSI_S3_SECRET_ACCESS_KEY: conn.secretAccessKey,
    },
    dataDirs: undefined,
    keepsCutBytes: false,
    async readStored(scanId) {
      const [key] = (await keysUnder('scans/')).filter((k) => k.includes(`/${scanId}/part-`)).sort();
      assert.ok(key, `scan ${scanId} has a part in the bucket`);
      // One byte more than the original: a longer object would show.
      return objects.read(key, 0, (await stat(THROTTLED_SLIDE)).size + 1);
    },
    uploadLeftovers: async (id) => (await keysUnder('uploads/')).filter((k) => k.startsWith(`uploads/${id}`)),
    async close() {
      // A bucket this run was given outlives it: remove what the test put there. Our own goes whole.
      if (given) for (const p of ['scans/', 'uploads/']) await objects.deletePrefix(p).catch(() => undefined);
      objects.destroy();
      await s3?.stop();
    },
  };
}

const missingCeph = missingS3ServerBinaries();
const storages: { name: string; open: () => Promise<SharedStorage>; skip: string | false }[] = [
  { name: 'shared folder', open: sharedFolder, skip: false },
  {
    name: 's3',
    open: sharedBucket,
    skip: missingCeph.length && !process.env.WSI_TEST_STORAGE_URL?.startsWith('s3://') ? `S3 test server not installed (missing ${missingCeph.join(', ')}; apt-get install radosgw ceph-mon ceph-osd)` : false,
  },
];

/**
 * Several server instances (issue 16): A and B share one PostgreSQL database and one storage (a
 * folder, or an S3 bucket with each instance on its own data dir) behind a load balancer. The
 * browser uploads through A; A is killed mid-upload; the upload resumes through B, which stores
 * exactly the original bytes and ingests the scan once.
 */
describe('two server instances behind a load balancer', () => {
  let cluster: PostgresCluster | undefined;
  let adminUrl: string;
  let browser: BrowserSession;

  before(async () => {
    await mkdir(join(repoRoot, 'test-output/screenshots'), { recursive: true });
    adminUrl = process.env.WSI_TEST_DATABASE_URL ?? (cluster = await startPostgresCluster()).url;
    browser = await openBrowser();
  });
  after(async () => {
    await browser?.close();
    cluster?.stop();
  });

  for (const { name, open, skip } of storages) {
    const label = name.replace(/\s+/g, '-');
    describe(`on PostgreSQL + ${name}`, { skip }, () => {
      let storage: SharedStorage;
      let db: { url: string; drop(): Promise<void> };
      let a: RunningServer;
      let b: RunningServer;
      let proxy: FailoverProxy;

      before(async () => {
        storage = await open();
        db = await createTestDatabase(adminUrl);
        const env = { ...serverEnv, WSI_DATABASE_URL: db.url, ...storage.env };
        // A first: it migrates and seeds; B then finds both done.
        a = await startServer({ dataDir: storage.dataDirs?.[0], env });
        b = await startServer({ dataDir: storage.dataDirs?.[1], env });
        proxy = await startFailoverProxy([a.port, b.port]);
      });

      after(async () => {
        // What each instance logged (ids and codes only), for whoever reads a failure.
        await writeFile(join(repoRoot, `test-output/two-instances-${label}-a.log`), a?.output() ?? '').catch(() => undefined);
        await writeFile(join(repoRoot, `test-output/two-instances-${label}-b.log`), b?.output() ?? '').catch(() => undefined);
        await proxy?.close();
        await a?.dispose();
        await b?.dispose();
        await db?.drop().catch(() => undefined);
        await storage?.close();
      });

      it('an upload started through A continues through B after A dies, and is ingested once', async () => {
        const { page, cdp, requests } = await startThrottledUpload(browser, proxy.url, `two-instances-${label}`);
        assert.equal(proxy.connections.get(b.port), 0, 'everything went to A until it died');

        await a.stop('SIGKILL');
        await unthrottle(cdp);
        // One tus upload, resumed through B from a non-zero offset; stored bytes equal the original.
        const scanId = await checkStoredOnce(page, (id) => storage.readStored(id), requests, { resumedFromNonZero: storage.keepsCutBytes });
        await screenshot(page, `two-instances-${label}-done`);
        assert.ok((proxy.connections.get(b.port) ?? 0) > 0, 'B took over the connections');

        // Ingest ran once, on the instance that was alive to finish the upload (the Done step does
        // not wait for it: poll the scan, then read both logs).
        const statusOf = async () => ((await page.evaluate(async (id) => (await fetch(`/api/scans/${id}`)).json(), scanId)) as { scan: { status: string } }).scan.status;
        for (let i = 0; i < 600 && ['uploading', 'processing'].includes(await statusOf()); i++) await new Promise((r) => setTimeout(r, 100));
        assert.equal(await statusOf(), 'ready');
        const ingested = (out: string) => out.split('\n').filter((l) => l.includes('scan ingested')).length;
        assert.equal(ingested(a.output()), 0);
        assert.equal(ingested(b.output()), 1, 'B ingested the scan once');

        // The upload A created and started is the one B finished.
        const uploadId = new URL(requests.find((r) => r.method === 'PATCH')!.url).pathname.split('/').pop()!;
        const finishedBy = (out: string) => out.split('\n').filter((l) => l.includes('upload part finished') && l.includes(`"uploadId":"${uploadId}"`)).length;
        assert.ok(a.output().includes(`"method":"PATCH","path":"/files/${uploadId}"`), 'A received the first PATCH');
        assert.equal(finishedBy(a.output()), 0);
        assert.equal(finishedBy(b.output()), 1, 'B finished the upload A created');

        // The tus upload's own data and metadata are gone once its bytes became the scan's.
        let left = await storage.uploadLeftovers(uploadId);
        for (let i = 0; i < 100 && left.length; i++) {
          await new Promise((r) => setTimeout(r, 100));
          left = await storage.uploadLeftovers(uploadId);
        }
        assert.deepEqual(left, [], `upload ${uploadId} left nothing behind`);
        // On a bucket each instance has its own data dir, and no slide bytes went to either.
        if (!storage.dataDirs) for (const s of [a, b]) assert.deepEqual(await readdir(join(s.dataDir, 'scans')).catch(() => []), [], `no scans in ${s === a ? 'A' : 'B'}'s data dir`);
      });
    });
  }
});
