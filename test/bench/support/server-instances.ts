/**
 * Server instances for the multi-instance and ingest benches (issue 16): each a separate process
 * (src/server/main.ts through tsx, so the bench runs what is in the tree), on its own free
 * loopback port, sharing one data folder and — on PostgreSQL — one database, as a deployment of
 * N instances behind a load balancer does. Driven as a black box over HTTP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../fixtures/node-fixtures.ts';
import { freePort } from '../../support/free-port.ts';
import { createTestDatabase, startPostgresCluster, type PostgresCluster } from '../../support/postgres.ts';
import type { UploadJob, UploadResult } from './tus-upload-child.ts';

export const ADMIN = { username: 'bench-admin', password: 'bench-admin-password-1' };

export interface Instance {
  url: string;
  output: () => string;
  stop(): Promise<void>;
}

/** Where the instances keep their state: a data folder, and a PostgreSQL database or SQLite in the folder. */
export interface SharedState {
  dataDir: string;
  /** WSI_DATABASE_URL, or undefined for SQLite (the data folder's file). */
  databaseUrl: string | undefined;
  dispose(): Promise<void>;
}

let cluster: PostgresCluster | undefined;

/**
 * A fresh data folder and database. PostgreSQL: in the cluster of WSI_TEST_DATABASE_URL, else in
 * a throwaway cluster started on first use (stopped by stopBenchCluster()).
 */
export async function sharedState(db: 'sqlite' | 'postgres'): Promise<SharedState> {
  const dataDir = await mkdtemp(join(tmpdir(), 'wsi-bench-shared-'));
  let pg: { url: string; drop(): Promise<void> } | undefined;
  if (db === 'postgres') {
    const admin = process.env.WSI_TEST_DATABASE_URL?.trim() || (cluster ??= await startPostgresCluster()).url;
    pg = await createTestDatabase(admin);
  }
  return {
    dataDir,
    databaseUrl: pg?.url,
    async dispose() {
      await pg?.drop().catch(() => undefined);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export function stopBenchCluster(): void {
  cluster?.stop();
  cluster = undefined;
}

/** One server process on the shared state; resolves once it answers HTTP. */
export async function startInstance(state: SharedState, env: Record<string, string> = {}): Promise<Instance> {
  const port = await freePort();
  let out = '';
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/server/main.ts')], {
    cwd: repoRoot,
    env: {
      ...process.env,
      WSI_PORT: String(port),
      WSI_HOST: '127.0.0.1',
      WSI_DATA_DIR: state.dataDir,
      WSI_ADMIN_USER: ADMIN.username,
      WSI_ADMIN_PASSWORD: ADMIN.password,
      WSI_LOG_LEVEL: 'info',
      ...(state.databaseUrl ? { WSI_DATABASE_URL: state.databaseUrl } : {}),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}):\n${out}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`server did not start:\n${out}`);
    }
    try {
      if ((await fetch(`${url}/api/health`)).status === 200) break;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, output: () => out, stop };
}

/** Signs the seeded admin (lab-admin of the Demo Lab, bulk import on) in and makes an API token for uploads. */
export async function apiToken(url: string): Promise<string> {
  const login = await fetch(`${url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
  if (login.status !== 200) throw new Error(`login: ${login.status}`);
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
  const t = await fetch(`${url}/api/me/tokens`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'bench' }) });
  if (t.status !== 201) throw new Error(`token: ${t.status}`);
  return ((await t.json()) as { token: string }).token;
}

/** How many times the instances logged 'scan ingested' (or quarantined) — once per scan when ingest runs once. */
export function ingestLogCount(instances: Instance[]): number {
  return instances.reduce((n, i) => n + i.output().split('\n').filter((l) => l.includes('"scan ingested"') || l.includes('"scan quarantined')).length, 0);
}

/** Runs tus-upload-child.ts in its own process with `job`; its result. */
export function runUploads(job: UploadJob): Promise<UploadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/bench/support/tus-upload-child.ts')], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (err += d));
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`uploader exited ${code}: ${err.slice(-2000)}`));
      else resolve(JSON.parse(out) as UploadResult);
    });
    child.stdin!.end(JSON.stringify(job));
  });
}

/** Polls the lab's scans (through `url`) until none is uploading or processing; returns them all (id, slide, status, updatedAt). */
export async function settledScans(url: string, token: string, expected: number, timeoutMs: number): Promise<{ id: number; slideId: string; status: string; updatedAt: string }[]> {
  const get = async (q: string) => {
    const r = await fetch(`${url}/api/scans?${q}`, { headers: { authorization: `Bearer ${token}` } });
    if (r.status !== 200) throw new Error(`scans: ${r.status}`);
    return (await r.json()) as { total: number; totalExact: boolean; scans: { id: number; slideId: string; status: string; updatedAt: string }[] };
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const busy = await get('status=uploading,processing&limit=1');
    const all = await get('limit=1');
    if (busy.total === 0 && all.total >= expected) break;
    if (Date.now() > deadline) throw new Error(`scans not settled: ${busy.total} of ${all.total} still busy`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const scans = [];
  for (let offset = 0; ; offset += 200) {
    const page = await get(`limit=200&offset=${offset}`);
    scans.push(...page.scans);
    if (page.scans.length < 200) break;
  }
  return scans;
}
