/**
 * Upload throughput through 2 server instances vs 1 (issue 16). Each instance is its own process
 * (src/server/main.ts) on its own port; both share one PostgreSQL database and one data folder,
 * as N instances behind a load balancer do. A client process (tus-js-client) sends
 * WSI_BENCH_MI_UPLOADS (8) uploads of one generated slide-sized SVS (WSI_BENCH_MI_MIB, 64 MiB;
 * sparse level 0) at once: all through one instance (the other not running), then spread
 * round-robin over two. Rounds alternate (WSI_BENCH_ROUNDS, default here 3); medians compared.
 * The figure is the upload phase (first request to the last upload's confirmation, which
 * includes the server checking each part's SHA-256); ingest of what arrived is waited for
 * between rounds so no round shares the disk with the previous one's ingest. Every upload must
 * end as a scan ingested exactly once. On a 2-core machine client, servers and PostgreSQL share
 * the same cores, so ~1x is the expected ratio: the bench shows that several instances work
 * and do not cost throughput, not that they add it.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { BenchRow } from './run.ts';
import { generateSlideFile, makeTmpDir } from '../fixtures/node-fixtures.ts';
import { median } from './stats.ts';
import { apiToken, ingestLogCount, runUploads, settledScans, sharedState, startInstance, stopBenchCluster, type Instance } from './support/server-instances.ts';

const MIB = 1024 * 1024;
const UPLOADS = Math.max(2, Number(process.env.WSI_BENCH_MI_UPLOADS ?? 8));
const SIZE_MIB = Math.max(1, Number(process.env.WSI_BENCH_MI_MIB ?? 64));
const ROUNDS = Math.max(1, Number(process.env.WSI_BENCH_ROUNDS ?? 3));
const CHUNK = 16 * MIB;

export async function run(): Promise<BenchRow[]> {
  const tmp = await makeTmpDir('wsi-bench-mi-');
  const state = await sharedState('postgres');
  const running: Instance[] = [];
  try {
    // A slide of about SIZE_MIB: level 0 of zero-filled tiles (sparse on disk), real SVS structure.
    const file = join(tmp.dir, 'slide.svs');
    const tiles = Math.max(1, Math.round(Math.sqrt((SIZE_MIB * MIB) / (256 * 1024))));
    await generateSlideFile(file, { kind: 'svs', compression: 'jpeg', label: false, macro: false, sparseLevel0: { across: tiles, down: tiles, tileBytes: 256 * 1024 } });
    const size = (await stat(file)).size;
    const h = createHash('sha256');
    for await (const c of createReadStream(file, { highWaterMark: 4 * MIB })) h.update(c as Buffer);
    const sha256 = h.digest('hex');
    const files = Array.from({ length: UPLOADS }, () => ({ path: file, size, sha256, filename: 'slide.svs', format: 'aperio-svs' }));

    const a = await startInstance(state);
    running.push(a);
    const token = await apiToken(a.url);
    let b: Instance | undefined;
    let expected = 0;
    const times: Record<'one' | 'two', number[]> = { one: [], two: [] };
    const round = async (which: 'one' | 'two') => {
      if (which === 'one' && b) {
        await b.stop();
        b = undefined;
      }
      if (which === 'two' && !b) running.push((b = await startInstance(state)));
      const endpoints = which === 'one' ? [`${a.url}/files/`] : [`${a.url}/files/`, `${b!.url}/files/`];
      const r = await runUploads({ endpoints, token, files, concurrency: UPLOADS, chunkSize: CHUNK, batchId: randomUUID() });
      expected += UPLOADS;
      const scans = await settledScans(a.url, token, expected, 600_000);
      const bad = scans.filter((s) => s.status !== 'ready');
      if (bad.length) throw new Error(`${bad.length} scans not ready: ${[...new Set(bad.map((s) => s.status))].join(', ')}`);
      times[which].push(r.ms);
      process.stderr.write(`  ${which === 'one' ? '1 instance ' : '2 instances'}: ${UPLOADS} × ${(size / MIB).toFixed(0)} MiB in ${(r.ms / 1000).toFixed(2)} s = ${((UPLOADS * size) / MIB / (r.ms / 1000)).toFixed(0)} MiB/s\n`);
    };
    for (let i = 0; i < ROUNDS; i++) {
      await round('one');
      await round('two');
    }
    const ingested = ingestLogCount(running);
    const mibps = (ms: number) => (UPLOADS * size) / MIB / (ms / 1000);
    const one = mibps(median(times.one));
    const two = mibps(median(times.two));
    const label = `${UPLOADS} concurrent × ${(size / MIB).toFixed(0)} MiB, PostgreSQL, ${cpus().length} cores, median of ${ROUNDS}`;
    return [
      { bench: 'multi-instance', metric: `upload through 1 instance (${label})`, value: one, unit: 'MiB/s' },
      { bench: 'multi-instance', metric: 'upload through 2 instances, round-robin', value: two, unit: 'MiB/s' },
      // No speed-up is possible when 2 cores run client, servers and database; not slower is the target.
      { bench: 'multi-instance', metric: '2 instances / 1 instance throughput', value: two / one, unit: 'x', target: '>= 0.8', ok: two / one >= 0.8 },
      { bench: 'multi-instance', metric: 'scans ingested exactly once (ingest log lines / uploads)', value: ingested / expected, unit: 'x', target: '1', ok: ingested === expected },
    ];
  } finally {
    for (const i of running) await i.stop();
    await state.dispose();
    stopBenchCluster();
    await tmp.cleanup();
  }
}
