/**
 * Sign-in flood vs file reads (issue 11 item 4): a 1 MiB range read of a stored file, as the viewer
 * makes it, timed with and without a concurrent flood of sign-ins (unknown usernames, wrong
 * passwords, each from its own address through a trusted proxy, so no throttle applies and every
 * request needs a password hash: the worst case, a botnet). Target: flood / quiet <= 2.
 *
 * For reference the same flood is replayed in the old design's shape, scrypt on libuv's thread
 * pool (node's async crypto.scrypt, the pool that also serves file reads), so the table shows what
 * the dedicated hashing thread buys on this machine.
 */
import { spawn } from 'node:child_process';
import { randomBytes, scrypt } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import type { BenchRow } from './run.ts';
import { median, ROUNDS } from './stats.ts';
import { memberOf, partMeta, removeDir, startServer, tusUpload, waitForScan, type Client, type TestServer } from '../server/support.ts';

const MIB = 1024 * 1024;
const FILE_BYTES = 64 * MIB;
const READS = 20;
const FLOODERS = 32;
/** Concurrent scrypt calls for the old-design reference: enough to keep libuv's 4 threads busy. */
const OLD_DESIGN_LOOPS = 8;

async function rangeRead(c: Client, scanId: number): Promise<number> {
  const start = Math.floor(Math.random() * (FILE_BYTES - MIB));
  const t = performance.now();
  const r = await c.fetch(`/api/scans/${scanId}/file?part=0`, { headers: { range: `bytes=${start}-${start + MIB - 1}` } });
  const body = await r.arrayBuffer();
  if (r.status !== 206 || body.byteLength !== MIB) throw new Error(`range read: ${r.status}, ${body.byteLength} bytes`);
  return performance.now() - t;
}

async function reads(c: Client, scanId: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < READS; i++) out.push(await rangeRead(c, scanId));
  return out;
}

/** Runs `loops` concurrent loops of `one()` until stop() is called; stop() waits for them to drain. */
function flood(loops: number, one: (i: number) => Promise<unknown>): { stop(): Promise<void> } {
  let running = true;
  const all = Array.from({ length: loops }, async (_, i) => {
    for (let n = 0; running; n++) await one(i * 1_000_000 + n);
  });
  return {
    async stop() {
      running = false;
      await Promise.all(all);
    },
  };
}

const statusCounts = new Map<string, number>();
/** The flood from its own process; stop() ends it and adds its answer counts to statusCounts. */
function signInFlood(s: TestServer): { stop(): Promise<void> } {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./support/signin-flooder.ts', import.meta.url)), s.url, String(FLOODERS)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return {
    async stop() {
      child.stdin.end();
      if ((await exited) !== 0) throw new Error(`flooder exited with ${child.exitCode}`);
      for (const [k, v] of Object.entries(JSON.parse(out) as Record<string, number>)) statusCounts.set(k, (statusCounts.get(k) ?? 0) + v);
    },
  };
}

const scryptParams = { N: 32768, r: 8, p: 1, maxmem: 256 * MIB };
function oldDesignFlood() {
  return flood(OLD_DESIGN_LOOPS, () => new Promise<void>((resolve, reject) => scrypt('Winter2026!', randomBytes(16), 32, scryptParams, (e) => (e ? reject(e) : resolve()))));
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const t0 = performance.now();
const progress = (what: string) => process.stderr.write(`signin: ${what} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);

export async function run(): Promise<BenchRow[]> {
  const s = await startServer({ trustProxy: ['127.0.0.1'], maxUploadBytes: FILE_BYTES });
  try {
    const { client } = await memberOf(s, 'Demo Lab', 'bench-viewer', 'lab-user');
    const bytes = randomBytes(FILE_BYTES);
    const { finish } = await tusUpload(client, bytes, partMeta(bytes, { filename: 'bench.svs' }));
    if (finish.status !== 204) throw new Error(`upload: ${finish.status}`);
    const scanId = Number(finish.headers.get('x-scan-id'));
    await waitForScan(client, scanId, 120_000);
    progress('file stored');
    await reads(client, scanId); // warm-up: page cache, connections, JIT

    const quiet: number[] = [];
    const flooded: number[] = [];
    const all = { quiet: [] as number[], flooded: [] as number[] };
    let floodMs = 0; // from the flood's start until it has drained
    for (let round = 0; round < ROUNDS; round++) {
      const q = await reads(client, scanId);
      quiet.push(median(q));
      progress(`round ${round + 1}: quiet reads`);
      all.quiet.push(...q);

      const t = performance.now();
      const f = signInFlood(s);
      await pause(1500); // the flooder starts (tsx) and fills the hashing queue
      const fr = await reads(client, scanId);
      progress(`round ${round + 1}: flood reads done, median ${median(fr).toFixed(1)} ms; draining`);
      await f.stop();
      floodMs += performance.now() - t;
      flooded.push(median(fr));
      progress(`round ${round + 1}: reads during the flood`);
      all.flooded.push(...fr);
    }
    // The reference once, and one read only: under it a read waits behind the queued hashes for
    // every 64 KiB chunk it reads.
    const o = oldDesignFlood();
    await pause(500);
    const oldMs = await rangeRead(client, scanId);
    await o.stop();
    progress('read during the old-design flood');
    const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)]!;
    const quietMs = median(quiet);
    const floodedMs = median(flooded);
    const ratio = floodedMs / quietMs;
    const answered = [...statusCounts.values()].reduce((a, b) => a + b, 0);
    const bench = 'signin';
    return [
      { bench, metric: `1 MiB range read, quiet (median of ${ROUNDS} rounds × ${READS})`, value: quietMs, unit: 'ms' },
      { bench, metric: `1 MiB range read during a sign-in flood (${FLOODERS} concurrent clients)`, value: floodedMs, unit: 'ms' },
      { bench, metric: 'range read: flood / quiet', value: ratio, unit: 'x', target: '<= 2', ok: ratio <= 2 },
      { bench, metric: 'range read p95: flood / quiet', value: p95(all.flooded) / p95(all.quiet), unit: 'x' },
      { bench, metric: `reference: one read while ${OLD_DESIGN_LOOPS} scrypt calls share libuv's pool (old design) / quiet`, value: oldMs / quietMs, unit: 'x' },
      { bench, metric: 'flood sign-ins answered per second', value: answered / (floodMs / 1000), unit: '/s' },
      { bench, metric: 'flood answers refused busy (503)', value: (100 * (statusCounts.get('503') ?? 0)) / Math.max(1, answered), unit: '%' },
      { bench, metric: 'cores', value: availableParallelism(), unit: '' },
    ];
  } finally {
    await s.stop();
    await removeDir(s.config.dataDir);
  }
}
