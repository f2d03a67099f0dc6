import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../support/free-port.ts';

export { freePort };

export const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
export const fixtures = join(repoRoot, '../shared/fixtures');

export interface RunningServer {
  url: string;
  port: number;
  dataDir: string;
  /** Everything the server printed (stdout + stderr). */
  output: () => string;
  /**
   * When the first body byte of each upload request (PATCH, or a creation carrying data) reached
   * the server's store, in order: `receivedAt` is epoch ms with a fraction (performance.timeOrigin
   * + performance.now() in the server), comparable with the browser's. Needs `bodyTimings: true`.
   */
  bodyStarts: () => BodyStart[];
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Start again on the same port and data directory. */
  restart(): Promise<void>;
  dispose(): Promise<void>;
}

export interface StartOptions {
  port?: number;
  dataDir?: string;
  env?: Record<string, string>;
  /** Log each upload request's first body byte (the server's debug level): see bodyStarts(). */
  bodyTimings?: boolean;
}

export interface BodyStart {
  uploadId: string;
  /** The request's Upload-Offset: 0 for an upload's first bytes. */
  offset: number;
  receivedAt: number;
}

/** The server's 'upload body: first byte received' log lines (tus/tus.ts), parsed. */
export function parseBodyStarts(output: string): BodyStart[] {
  const out: BodyStart[] = [];
  for (const line of output.split('\n')) {
    if (!line.includes('upload body: first byte received')) continue;
    try {
      const j = JSON.parse(line) as { uploadId: string; offset: number; receivedAt: number };
      out.push({ uploadId: j.uploadId, offset: j.offset, receivedAt: j.receivedAt });
    } catch {
      /* a line cut by the pipe: not ours to judge */
    }
  }
  return out;
}

/** Runs the built server (dist/server/main.js) as a real process on a free loopback port. */
export async function startServer(opts: StartOptions = {}): Promise<RunningServer> {
  const port = opts.port ?? (await freePort());
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'wsi-e2e-')));
  let out = '';
  let child: ChildProcess | undefined;

  const launch = async () => {
    child = spawn(process.execPath, [join(repoRoot, 'dist/server/main.js')], {
      cwd: repoRoot,
      env: { ...process.env, WSI_PORT: String(port), WSI_HOST: '127.0.0.1', WSI_DATA_DIR: dataDir, ...(opts.bodyTimings ? { WSI_LOG_LEVEL: 'debug' } : {}), ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}):\n${out}`);
      try {
        const r = await fetch(`http://127.0.0.1:${port}/api/me`);
        if (r.status > 0) return;
      } catch {
        /* not up yet */
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`server did not start:\n${out}`);
  };

  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill(signal);
    });
  };

  await launch();
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dataDir,
    output: () => out,
    bodyStarts: () => parseBodyStarts(out),
    stop,
    restart: launch,
    async dispose() {
      await stop('SIGKILL');
      if (!opts.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
