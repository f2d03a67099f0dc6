import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** One thing the server needs to serve requests (the database, the storage). */
export interface ReadinessCheck {
  /** A fixed name (reported to callers and logs): never a connection string or a path. */
  name: string;
  /** Resolves when the dependency answers; should give up when `signal` aborts. */
  check(signal: AbortSignal): Promise<void>;
}

export interface CheckResult {
  name: string;
  ok: boolean;
  /** Why it failed: 'timeout', or the error's code (an errno such as ENOTDIR); never its message. */
  reason?: string;
}

export interface Readiness {
  ready: boolean;
  checks: CheckResult[];
}

export const defaultCheckTimeoutMs = 2000;

/** A short, fixed reason for logs and callers: messages may hold paths or connection strings. */
function reasonOf(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code) ? code : 'error';
}

async function runOne(c: ReadinessCheck, timeoutMs: number): Promise<CheckResult> {
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => {
      ac.abort();
      resolve('timeout');
    }, timeoutMs);
  });
  try {
    // A check that ignores its signal still cannot hold the answer past the timeout.
    const r = await Promise.race([c.check(ac.signal).then(() => 'ok' as const), timedOut]);
    return r === 'ok' ? { name: c.name, ok: true } : { name: c.name, ok: false, reason: 'timeout' };
  } catch (e) {
    return { name: c.name, ok: false, reason: reasonOf(e) };
  } finally {
    clearTimeout(timer);
  }
}

/** Runs every check at once, each bounded by its own timeout. */
export async function checkReadiness(checks: readonly ReadinessCheck[], timeoutMs = defaultCheckTimeoutMs): Promise<Readiness> {
  const results = await Promise.all(checks.map((c) => runOne(c, timeoutMs)));
  return { ready: results.every((r) => r.ok), checks: results };
}

/**
 * The database answers a trivial query. `ping` is the one place that knows how (today a
 * `SELECT 1` through better-sqlite3; a pooled database's own ping later).
 */
export function databaseCheck(ping: () => unknown): ReadinessCheck {
  return { name: 'database', check: async () => void (await ping()) };
}

/**
 * The data folder takes writes: a small probe file is created and removed in a folder of its own
 * (`<dataDir>/.ready-probe`), so nothing else in the data folder is ever touched.
 */
export function folderWritableCheck(dataDir: string): ReadinessCheck {
  const dir = join(dataDir, '.ready-probe');
  return {
    name: 'storage',
    async check(signal) {
      await mkdir(dir, { recursive: true });
      const file = join(dir, `probe-${process.pid}-${randomBytes(6).toString('hex')}`);
      try {
        await writeFile(file, 'ok', { signal });
      } finally {
        await rm(file, { force: true });
      }
    },
  };
}
