/**
 * A REAL S3-compatible server for tests: Ceph's RADOS Gateway on a throwaway single-node cluster
 * (one monitor, one OSD on memstore, radosgw with the beast frontend on a free loopback port), all
 * in a temp dir, killed and removed by `stop()`.
 *
 * Debian bookworm packages (apt-get install --no-install-recommends radosgw ceph-mon ceph-osd:
 * 64 packages, ~61 MB download, 269 MB installed, ~22 s here).
 *
 * Choices, and why:
 * - auth none: nothing but this process talks to the cluster, and cephx would need keyrings for
 *   every daemon. radosgw on its own insists on an encrypted session with the monitor
 *   (ms_mon_client_mode = secure), which auth none cannot give: it is started with `crc`, or it
 *   retries forever with "get_initial_auth_request returned -13".
 * - msgr2 addresses for the monitor: monmaptool makes a v2 address for a port other than 6789;
 *   a v1 `mon host` then never connects (the client waits out its 300 s auth timeout).
 * - memstore: the OSD's objects live in RAM, nothing to format; pool size 1, 8 PGs per pool.
 * - no ceph-mgr: radosgw creates its pools through the monitor; only `ceph -s` statistics need it.
 * - paxos propose interval 0.05 s (default 1 s): radosgw's first start creates its pools one map
 *   change at a time; this takes the start from ~15 s to ~3 s.
 * - everything runs as the calling user (root is fine for Ceph, unlike PostgreSQL), in the
 *   foreground (-f) as children of this process, so `stop()` and process exit can kill them.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { freePort } from './free-port.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface S3Server {
  /** http://127.0.0.1:<port> (path-style addressing). */
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** An empty bucket created for the caller. */
  bucket: string;
  /** The gateway's process id (for RSS measurements). */
  pids: { mon: number; osd: number; rgw: number };
  stop(): Promise<void>;
}

const binaries = ['ceph-mon', 'ceph-osd', 'radosgw', 'radosgw-admin', 'monmaptool', 'ceph'];
const binDirs = ['/usr/bin', '/usr/local/bin', '/usr/sbin'];

/** Which of the binaries the server needs are missing (empty: it can start). */
export function missingS3ServerBinaries(): string[] {
  return binaries.filter((b) => !binDirs.some((d) => existsSync(join(d, b))));
}

function cephConf(dir: string, fsid: string, monPort: number): string {
  return `[global]
fsid = ${fsid}
mon host = v2:127.0.0.1:${monPort}
public addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
mon allow pool size one = true
mon allow pool delete = true
mon data avail warn = 1
osd crush chooseleaf type = 0
run dir = ${dir}/run
log file = ${dir}/log/$name.log
admin socket = ${dir}/run/$name.asok
pid file = ${dir}/run/$name.pid
mon data = ${dir}/mon/$id
osd data = ${dir}/osd/$id
osd objectstore = memstore
memstore device bytes = 4294967296
rgw data = ${dir}/rgw
paxos propose interval = 0.05
paxos min wait = 0.01
mon osd auto mark in = true
osd pool default pg autoscale mode = off
rgw thread pool size = 32
rgw enable usage log = false
`;
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`S3 test server: ${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Start the cluster and gateway; resolves once a bucket is created and S3 answers. */
export async function startS3Server(): Promise<S3Server> {
  const missing = missingS3ServerBinaries();
  if (missing.length) throw new Error(`S3 test server: missing ${missing.join(', ')} (apt-get install radosgw ceph-mon ceph-osd)`);
  const dir = mkdtempSync(join(tmpdir(), 'wsi-s3-'));
  const children: ChildProcess[] = [];
  // A test that crashes must not leave daemons behind: kill them as this process exits.
  const killAll = (): void => {
    for (const c of [...children].reverse()) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  };
  process.once('exit', killAll);
  const conf = join(dir, 'ceph.conf');
  const tool = (cmd: string, args: string[]) => run(cmd, ['-c', conf, ...args], { cwd: dir, timeout: 60_000 });
  // setpriv --pdeathsig: the kernel kills a daemon when this process dies, even by a signal that
  // skips the 'exit' handler (a test runner's timeout); it execs the daemon, so the pid is its own.
  const pdeathsig = existsSync('/usr/bin/setpriv') ? ['/usr/bin/setpriv', '--pdeathsig', 'KILL', '--'] : [];
  const daemon = (cmd: string, args: string[]): ChildProcess => {
    const argv = [...pdeathsig, cmd, '-c', conf, '-f', ...args];
    const c = spawn(argv[0], argv.slice(1), { cwd: dir, stdio: 'ignore' });
    children.push(c);
    return c;
  };
  const cleanup = async (): Promise<void> => {
    killAll();
    await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
    process.removeListener('exit', killAll);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const [monPort, rgwPort] = [await freePort(), await freePort()];
    for (const d of ['run', 'log', 'mon/a', 'osd/0', 'rgw']) mkdirSync(join(dir, d), { recursive: true });
    const fsid = randomUUID();
    writeFileSync(conf, cephConf(dir, fsid, monPort));
    await run('monmaptool', ['--create', '--addv', 'a', `v2:127.0.0.1:${monPort}`, '--fsid', fsid, join(dir, 'monmap')], { timeout: 30_000 });
    await tool('ceph-mon', ['--mkfs', '-i', 'a', '--monmap', join(dir, 'monmap')]);
    const mon = daemon('ceph-mon', ['-i', 'a']);
    const osdUuid = randomUUID();
    // The monitor may still be starting: `ceph` retries its connection within --connect-timeout.
    await tool('ceph', ['--connect-timeout', '30', 'osd', 'new', osdUuid]);
    await tool('ceph-osd', ['-i', '0', '--mkfs', '--osd-uuid', osdUuid]);
    const osd = daemon('ceph-osd', ['-i', '0']);
    const rgw = daemon('radosgw', ['-n', 'client.rgw', '--rgw-frontends', `beast endpoint=127.0.0.1:${rgwPort}`]);
    const endpoint = `http://127.0.0.1:${rgwPort}`;
    let stopping = false;
    const named = { 'ceph-mon': mon, 'ceph-osd': osd, radosgw: rgw };
    for (const [name, c] of Object.entries(named)) {
      c.once('exit', (code, sig) => void (code !== 0 && sig !== 'SIGKILL' && !stopping && console.error(`S3 test server: ${name} exited (${code ?? sig}); logs in ${dir}/log`)));
    }
    // radosgw creates its pools before it listens: the first answer means it is usable.
    await until('radosgw answering', 90_000, async () => ((await fetch(endpoint)).ok ? true : undefined));
    const accessKeyId = `WSITEST${randomBytes(6).toString('hex').toUpperCase()}`;
    const secretAccessKey = randomBytes(24).toString('base64url');
    await tool('radosgw-admin', ['-n', 'client.admin', 'user', 'create', '--uid=wsi-test', '--display-name=wsi-test', `--access-key=${accessKeyId}`, `--secret-key=${secretAccessKey}`]);
    const region = 'us-east-1';
    const bucket = `wsi-test-${randomBytes(4).toString('hex')}`;
    const { S3Client, CreateBucketCommand } = await import('@aws-sdk/client-s3');
    const client = new S3Client({ endpoint, region, forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } });
    // A new user's keys can take a moment to be seen by the gateway's cache.
    await until('bucket creation', 30_000, async () => (await client.send(new CreateBucketCommand({ Bucket: bucket })), true));
    client.destroy();
    return {
      endpoint,
      accessKeyId,
      secretAccessKey,
      region,
      bucket,
      pids: { mon: mon.pid ?? 0, osd: osd.pid ?? 0, rgw: rgw.pid ?? 0 },
      async stop() {
        stopping = true;
        await cleanup();
      },
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

/**
 * `node --import tsx test/support/s3-server.ts <command> [args…]`: runs the command with a
 * throwaway gateway and bucket, WSI_TEST_STORAGE_URL=s3://<bucket> plus the WSI_S3_* variables
 * pointing at it, then stops the gateway and removes its folder whatever happens (also on Ctrl-C);
 * exits with the command's code. test/run-all.mjs's server-pg-s3 phase chains it after postgres.ts.
 * Without the Ceph binaries it says so loudly on stderr and runs the command on local storage.
 */
async function runWithS3(argv: string[]): Promise<number> {
  const missing = missingS3ServerBinaries();
  let server: S3Server | undefined;
  if (missing.length) {
    process.stderr.write(`\n!!! S3 test server: missing ${missing.join(', ')} (apt-get install radosgw ceph-mon ceph-osd; .ci/run does): running WITHOUT S3, on the data folder !!!\n\n`);
  } else {
    server = await startS3Server();
  }
  const env = server
    ? {
        WSI_TEST_STORAGE_URL: `s3://${server.bucket}`,
        WSI_S3_ENDPOINT: server.endpoint,
        WSI_S3_REGION: server.region,
        WSI_S3_ACCESS_KEY_ID: server.accessKeyId,
        WSI_S3_SECRET_ACCESS_KEY: server.secretAccessKey,
      }
    : {};
  // The child gets the same Ctrl-C from the terminal; we only wait for it, then clean up.
  process.once('SIGINT', () => {});
  process.once('SIGTERM', () => {});
  try {
    return await new Promise<number>((resolve) => {
      const child = spawn(argv[0]!, argv.slice(1), { stdio: 'inherit', env: { ...process.env, ...env } });
      child.on('error', () => resolve(1));
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    });
  } finally {
    await server?.stop();
  }
}

if (process.argv[1] && import.meta.url === (await import('node:url')).pathToFileURL(process.argv[1]).href) {
  if (process.argv.length < 3) {
    process.stderr.write('usage: node --import tsx test/support/s3-server.ts <command> [args…]\n');
    process.exit(2);
  }
  process.exitCode = await runWithS3(process.argv.slice(2));
}
