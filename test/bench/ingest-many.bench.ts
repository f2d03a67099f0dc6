/**
 * Ingest of many small scans (issue 16): WSI_BENCH_INGEST_SCANS (1,000) small generated
 * pyramidal SVS files uploaded through tus (tus-js-client in its own process, 8 at a time, each a
 * one-part slide), then waited for until every scan is ready. On SQLite (1 instance), on
 * PostgreSQL (1 instance) and on PostgreSQL with 2 instances sharing the database and the data
 * folder (uploads round-robin; ingest jobs claimed from the database by either). Reported per
 * setup: scans/s from the first upload to the last scan ready, p50/p95 from an upload's last byte
 * confirmed to its scan ready (the scan's updatedAt when it turned ready; one clock, one
 * machine), and that every scan was ingested exactly once (one 'scan ingested' log line per
 * upload over all instances, as many scans as uploads, all ready). Set WSI_BENCH_INGEST_SETUPS
 * (e.g. "sqlite,pg") to run fewer setups.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchRow } from './run.ts';
import { generateSlideFile, makeTmpDir } from '../fixtures/node-fixtures.ts';
import { apiToken, ingestLogCount, runUploads, settledScans, sharedState, startInstance, stopBenchCluster, type Instance } from './support/server-instances.ts';

const COUNT = Math.max(1, Number(process.env.WSI_BENCH_INGEST_SCANS ?? 1000));
const CONCURRENCY = 8;
const SETUPS = [
  { key: 'sqlite', name: 'SQLite, 1 instance', db: 'sqlite', instances: 1 },
  { key: 'pg', name: 'PostgreSQL, 1 instance', db: 'postgres', instances: 1 },
  { key: 'pg2', name: 'PostgreSQL, 2 instances', db: 'postgres', instances: 2 },
] as const;

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export async function run(): Promise<BenchRow[]> {
  const tmp = await makeTmpDir('wsi-bench-ingest-');
  const wanted = (process.env.WSI_BENCH_INGEST_SETUPS ?? 'sqlite,pg,pg2').split(',').map((s) => s.trim());
  const rows: BenchRow[] = [];
  try {
    // One small pyramidal slide (two levels of JPEG tiles), uploaded COUNT times as different slides.
    const file = join(tmp.dir, 'small.svs');
    await generateSlideFile(file, { kind: 'svs', compression: 'jpeg', tilesAcross: 4, tilesDown: 3, levels: 2, label: false, macro: false });
    const size = (await stat(file)).size;
    const sha256 = createHash('sha256').update(await readFile(file)).digest('hex');
    const files = Array.from({ length: COUNT }, (_, i) => ({ path: file, size, sha256, filename: `small-${i}.svs`, format: 'aperio-svs' }));

    for (const setup of SETUPS.filter((s) => wanted.includes(s.key))) {
      const state = await sharedState(setup.db);
      const running: Instance[] = [];
      try {
        // The first migrates and seeds; the second then finds both done.
        for (let i = 0; i < setup.instances; i++) running.push(await startInstance(state));
        const token = await apiToken(running[0]!.url);
        const started = Date.now();
        const up = await runUploads({ endpoints: running.map((i) => `${i.url}/files/`), token, files, concurrency: CONCURRENCY, chunkSize: 64 * 1024 * 1024, batchId: randomUUID() });
        const scans = await settledScans(running[0]!.url, token, COUNT, 1_800_000);
        const finished = new Map(up.uploads.map((u) => [u.slideId, u.finishedAt]));
        const ready = scans.filter((s) => s.status === 'ready' && finished.has(s.slideId));
        const latencies = ready.map((s) => Date.parse(s.updatedAt) - finished.get(s.slideId)!);
        const lastReady = Math.max(...ready.map((s) => Date.parse(s.updatedAt)));
        // Uploads outrun ingest, so most of upload→ready is the wait in the queue: also how long
        // the first uploads (nothing queued before them) took, and ingest's own pace once the
        // uploads stopped competing for the cores.
        const byFinish = [...up.uploads].sort((x, y) => x.finishedAt - y.finishedAt);
        const firstIds = new Set(byFinish.slice(0, CONCURRENCY).map((u) => u.slideId));
        const firstLatencies = ready.filter((s) => firstIds.has(s.slideId)).map((s) => Date.parse(s.updatedAt) - finished.get(s.slideId)!);
        const lastUpload = byFinish[byFinish.length - 1]!.finishedAt;
        const readyAfter = ready.filter((s) => Date.parse(s.updatedAt) > lastUpload).length;
        const ingestAlone = readyAfter / Math.max(0.001, (lastReady - lastUpload) / 1000);
        const ingested = ingestLogCount(running);
        const once = ingested === COUNT && scans.length === COUNT && ready.length === COUNT;
        const perSecond = ready.length / ((lastReady - started) / 1000);
        process.stderr.write(
          `  ${setup.name}: ${COUNT} uploads in ${(up.ms / 1000).toFixed(1)} s, all settled after ${((lastReady - started) / 1000).toFixed(1)} s (${perSecond.toFixed(1)} scans/s); ` +
            `upload→ready p50 ${percentile(latencies, 50).toFixed(0)} ms, p95 ${percentile(latencies, 95).toFixed(0)} ms (first uploads ${percentile(firstLatencies, 50).toFixed(0)} ms); ` +
            `ingest alone ${ingestAlone.toFixed(1)} scans/s; ${ready.length} ready of ${scans.length} scans, ${ingested} ingest log lines\n`,
        );
        const m = (what: string) => `${setup.name}: ${what}`;
        rows.push(
          { bench: 'ingest-many', metric: m(`${COUNT} scans of ${(size / 1024).toFixed(0)} KiB, upload to all ready`), value: perSecond, unit: 'scans/s' },
          { bench: 'ingest-many', metric: m('uploads alone (8 at a time)'), value: COUNT / (up.ms / 1000), unit: 'uploads/s' },
          { bench: 'ingest-many', metric: m('upload finished → scan ready p50'), value: percentile(latencies, 50), unit: 'ms' },
          { bench: 'ingest-many', metric: m('upload finished → scan ready p95'), value: percentile(latencies, 95), unit: 'ms' },
          { bench: 'ingest-many', metric: m(`upload finished → scan ready, first ${CONCURRENCY} uploads (empty queue) p50`), value: percentile(firstLatencies, 50), unit: 'ms' },
          { bench: 'ingest-many', metric: m(`ingest alone, after the last upload (${readyAfter} scans)`), value: ingestAlone, unit: 'scans/s' },
          { bench: 'ingest-many', metric: m('every scan ingested exactly once (ready scans / uploads)'), value: ready.length / COUNT, unit: 'x', target: '1, one ingest each', ok: once },
        );
      } finally {
        for (const i of running) await i.stop();
        await state.dispose();
      }
    }
    return rows;
  } finally {
    stopBenchCluster();
    await tmp.cleanup();
  }
}
