/**
 * PostgreSQL for tests: a throwaway cluster (initdb into a temp dir, pg_ctl on a free loopback
 * port, stopped and removed at the end) and fresh databases in it, one per started app.
 *
 * initdb and postgres refuse to run as root: when this process is root, the cluster runs as the
 * `postgres` user (Debian's package creates it), with the data dir handed to that user.
 * Databases are created with LC_COLLATE/LC_CTYPE 'C' (template0), so text sorts and case-folding
 * match SQLite's (see src/server/db/postgres-baseline.ts).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { freePort } from './free-port.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface PostgresCluster {
  /** postgres://… of the cluster's `postgres` database (superuser, no password: trust on loopback). */
  url: string;
  stop(): void;
}

/** Where Debian keeps initdb and pg_ctl (not on PATH): /usr/lib/postgresql/<v>/bin, newest first. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl'))).sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(root, versions[0], 'bin');
  }
  try {
    const initdb = execFileSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' }).trim();
    return initdb ? initdb.replace(/\/initdb$/, '') : undefined;
  } catch {
    return undefined;
  }
}

/** Start a throwaway cluster; `stop()` shuts it down and removes its files. */
export async function startPostgresCluster(): Promise<PostgresCluster> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL is not installed (no initdb): apt-get install postgresql');
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'wsi-pg-'));
  const data = join(dir, 'data');
  let uid: number | undefined;
  let gid: number | undefined;
  if (asRoot) {
    uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
    chmodSync(dir, 0o700);
  }
  const run = (cmd: string, args: string[]) =>
    asRoot ? execFileSync('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args], { stdio: 'pipe' }) : execFileSync(join(bin, cmd), args, { stdio: 'pipe' });
  const port = await freePort();
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync']);
  // The socket goes into the cluster's own dir: /var/run/postgresql may not exist or be writable.
  const opts = `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories=${dir} -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c max_connections=200`;
  run('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-o', opts, '-w', 'start']);
  let stopped = false;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop() {
      if (stopped) return;
      stopped = true;
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** A new, empty database in the cluster of `adminUrl`; `drop()` removes it (closing its connections). */
export async function createTestDatabase(adminUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `wsi_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'`);
  } finally {
    await admin.end();
  }
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/**
 * `node --import tsx test/support/postgres.ts <command> [args…]`: runs the command with a
 * throwaway cluster and WSI_TEST_DATABASE_URL pointing at it, then stops and removes the cluster
 * (also on Ctrl-C); exits with the command's code. test/run-all.mjs's server-pg phase uses it.
 */
async function runWithCluster(argv: string[]): Promise<number> {
  const { spawn } = await import('node:child_process');
  const cluster = await startPostgresCluster();
  const stop = () => cluster.stop();
  process.once('SIGINT', () => {});
  process.once('SIGTERM', () => {});
  try {
    return await new Promise<number>((resolve) => {
      const child = spawn(argv[0]!, argv.slice(1), { stdio: 'inherit', env: { ...process.env, WSI_TEST_DATABASE_URL: cluster.url } });
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    });
  } finally {
    stop();
  }
}

if (process.argv[1] && import.meta.url === (await import('node:url')).pathToFileURL(process.argv[1]).href) {
  if (process.argv.length < 3) {
    process.stderr.write('usage: node --import tsx test/support/postgres.ts <command> [args…]\n');
    process.exit(2);
  }
  process.exitCode = await runWithCluster(process.argv.slice(2));
}
