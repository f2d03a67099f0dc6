/**
 * Stored bytes in a real S3-compatible server (Ceph RGW on memstore, test/support/s3-server.ts)
 * against the data directory, all on this machine (so network latency is loopback's: a real
 * bucket adds round trips, which the block cache and read-ahead exist to hide):
 * - a sequential 8 MiB sweep (what the PHI sweep does) through byteSource, with read-ahead, vs the
 *   same GETs one after another, vs the file on disk;
 * - a tus upload (tus-js-client, 32 MiB PATCHes) through S3Store vs the file store;
 * - the engine opening and verifying a real slide: reads asked for vs GETs made.
 * Skipped (no rows) when the gateway is not installed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server as TusServer, type DataStore } from '@tus/server';
import { FileStore } from '@tus/file-store';
import { Upload } from 'tus-js-client';
import type { BenchRow } from './run.ts';
import { median, ROUNDS, timed } from './stats.ts';
import { NodeFileSource } from '../../src/engine/io/node/file-source.ts';
import { verifyOutputAlone } from '../../src/engine/redact/verify-output.ts';
import type { ByteSource } from '../../src/engine/io/byte-source.ts';
import { S3ObjectStore } from '../../src/server/storage/s3-object-store.ts';
import { createS3TusStore } from '../../src/server/storage/tus-datastore.ts';
import { missingS3ServerBinaries, startS3Server } from '../support/s3-server.ts';

const MiB = 1024 * 1024;
const SWEEP_BYTES = Number(process.env.WSI_BENCH_S3_MIB ?? 256) * MiB;
const CHUNK = 8 * MiB;
const bench = 's3-storage';

async function sweep(src: ByteSource): Promise<string> {
  const h = createHash('sha256');
  for (let at = 0; at < src.size; at += CHUNK) h.update(await src.read(at, CHUNK));
  return h.digest('hex');
}

async function tusUpload(datastore: DataStore, data: Buffer): Promise<void> {
  const tus = new TusServer({ path: '/files', datastore, relativeLocation: true });
  const http = createServer((req, res) => void tus.handle(req, res));
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  try {
    const endpoint = `http://127.0.0.1:${(http.address() as { port: number }).port}/files/`;
    await new Promise<void>((resolve, reject) => new Upload(data, { endpoint, chunkSize: 32 * MiB, retryDelays: [], onError: reject, onSuccess: () => resolve() }).start());
  } finally {
    await new Promise((r) => http.close(r));
  }
}

export async function run(): Promise<BenchRow[]> {
  if (missingS3ServerBinaries().length) {
    process.stderr.write(`${bench}: skipped, S3 server binaries not installed\n`);
    return [];
  }
  const started = await timed(() => startS3Server());
  const server = started.value;
  const dir = mkdtempSync(join(tmpdir(), 'wsi-s3-bench-'));
  const config = { kind: 's3' as const, bucket: server.bucket, prefix: 'bench/', endpoint: server.endpoint, region: server.region, credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey }, forcePathStyle: true };
  const store = new S3ObjectStore(config);
  const rows: BenchRow[] = [{ bench, metric: 'S3 server start (mon + osd + radosgw, bucket)', value: started.ms / 1000, unit: 's' }];
  try {
    const data = randomBytes(SWEEP_BYTES);
    writeFileSync(join(dir, 'obj'), data);
    await store.put('sweep/obj', data);
    const mbps = (ms: number) => SWEEP_BYTES / MiB / (ms / 1000);
    const [ahead, serial, disk] = [[], [], []] as number[][];
    for (let r = 0; r < ROUNDS; r++) {
      const src = await store.byteSource('sweep/obj', 'obj');
      ahead.push((await timed(() => sweep(src))).ms);
      await src.close();
      serial.push((await timed(() => sweep({ size: SWEEP_BYTES, name: 'obj', read: (o, l) => store.read('sweep/obj', o, l) }))).ms);
      const file = await NodeFileSource.open(join(dir, 'obj'));
      disk.push((await timed(() => sweep(file))).ms);
      await file.close();
    }
    rows.push(
      { bench, metric: `8 MiB sweep, S3 byteSource with read-ahead (${SWEEP_BYTES / MiB} MiB)`, value: mbps(median(ahead)), unit: 'MiB/s' },
      { bench, metric: '8 MiB sweep, S3 GETs one after another', value: mbps(median(serial)), unit: 'MiB/s' },
      { bench, metric: '8 MiB sweep, local file', value: mbps(median(disk)), unit: 'MiB/s' },
      { bench, metric: 'sweep time ratio: serial GETs / read-ahead', value: median(serial) / median(ahead), unit: 'x' },
    );

    const up = data.subarray(0, Math.min(SWEEP_BYTES, 128 * MiB));
    const [s3Up, fileUp] = [[], []] as number[][];
    for (let r = 0; r < ROUNDS; r++) {
      s3Up.push((await timed(() => tusUpload(createS3TusStore(config, 0), up))).ms);
      fileUp.push((await timed(() => tusUpload(new FileStore({ directory: join(dir, `uploads-${r}`) }), up))).ms);
    }
    const upMbps = (ms: number) => up.length / MiB / (ms / 1000);
    rows.push(
      { bench, metric: `tus upload through S3Store (${up.length / MiB} MiB, 32 MiB PATCHes)`, value: upMbps(median(s3Up)), unit: 'MiB/s' },
      { bench, metric: 'tus upload through the file store', value: upMbps(median(fileUp)), unit: 'MiB/s' },
      { bench, metric: 'upload time ratio: S3Store / file store', value: median(s3Up) / median(fileUp), unit: 'x' },
    );

    const fixture = new URL('../../../shared/fixtures/histolab/tcga-cr-7395-01a-01-ts1.svs', import.meta.url).pathname;
    await store.putFile('slides/tcga.svs', fixture);
    const src = await store.byteSource('slides/tcga.svs', 'the file');
    let reads = 0;
    const counted: ByteSource = { size: src.size, name: src.name, read: (o, l, s) => (reads++, src.read(o, l, s)) };
    const verified = await timed(() => verifyOutputAlone([counted]));
    rows.push(
      { bench, metric: `engine verify of a ${(src.size / MiB).toFixed(1)} MiB SVS from S3: reads asked`, value: reads, unit: 'reads' },
      { bench, metric: 'same: ranged GETs made', value: src.fetches, unit: 'GETs' },
      { bench, metric: 'same: time', value: verified.ms, unit: 'ms' },
    );
    await src.close();
  } finally {
    store.destroy();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
