/**
 * `wsi-import upload` throughput over loopback next to a plain tus-js-client upload of the same
 * bytes in the same run (issue 14): a 512 MiB slide (sparse level 0) sent with --direct, so both
 * send exactly the same file, each from its own process, alternating, 3 rounds (medians). The CLI's figure is its upload phase (from its "uploading" line to
 * its "sent" line, which includes the server confirming the part's hash); the whole run (start,
 * hashing the original, upload, the server's verdict) is reported beside it.
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchRow } from './run.ts';
import { generateSlideFile, makeTmpDir, repoRoot } from '../fixtures/node-fixtures.ts';
import { memberOf, removeDir, startServer } from '../server/support.ts';

const MIB = 1024 * 1024;
const CHUNK = 64 * MIB;
const ROUNDS = 3;
const exec = promisify(execFile);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function run(): Promise<BenchRow[]> {
  const tmp = await makeTmpDir('wsi-bench-cli-');
  const s = await startServer({ maxUploadBytes: 1024 * MIB });
  try {
    const { client } = await memberOf(s, 'Bench Lab', 'bench-cli', 'lab-user');
    const t = await client.json('/api/me/tokens', 'POST', { name: 'bench' });
    if (t.status !== 201) throw new Error(`token: ${t.status}`);
    const { token } = (await t.json()) as { token: string };
    const tokenFile = join(tmp.dir, 'token');
    await writeFile(tokenFile, token);
    const file = join(tmp.dir, 'big.svs');
    await generateSlideFile(file, { kind: 'svs', compression: 'jpeg', label: true, macro: true, sparseLevel0: { across: 32, down: 32, tileBytes: 512 * 1024 } });
    const size = (await stat(file)).size;

    // Plain tus-js-client, same bytes, same chunk size, same endpoint and auth.
    const h = createHash('sha256');
    for await (const c of createReadStream(file, { highWaterMark: 4 * MIB })) h.update(c as Buffer);
    const sha256 = h.digest('hex');
    // Both run as a child process, as the CLI does (a client sharing the server's event loop
    // would be measured against itself). Alternating rounds, median of each: the server's disk
    // flushing one upload while the next runs would otherwise favour whichever goes first.
    const plainScript = `
      import { Upload } from 'tus-js-client';
      import { createReadStream } from 'node:fs';
      const [file, endpoint, token, sha256, slideId] = process.argv.slice(1);
      const t0 = performance.now();
      await new Promise((resolve, reject) => {
        const up = new Upload(createReadStream(file), { endpoint, chunkSize: ${CHUNK}, headers: { authorization: 'Bearer ' + token },
          metadata: { filename: 'plain.svs', slideId, part: '0', parts: '1', format: 'aperio-svs', sha256, mode: 'direct', batchId: slideId },
          onSuccess: resolve, onError: reject });
        up.start();
      });
      process.stdout.write(String(performance.now() - t0));`;
    const plain = async (): Promise<number> => {
      const slideId = randomUUID();
      const { stdout } = await exec(process.execPath, ['--input-type=module', '-e', plainScript, file, `${s.url}/files/`, token, sha256, slideId], { cwd: repoRoot });
      // The server ingests what the plain client sent (reads the whole file): let it finish, as the
      // CLI waits for its verdict, so the next round never shares the disk with this one's ingest.
      await settled(slideId);
      return Number(stdout);
    };
    const settled = async (slideId: string): Promise<void> => {
      for (let i = 0; i < 600; i++) {
        const r = await fetch(`${s.url}/api/uploads/slide/${slideId}`, { headers: { authorization: `Bearer ${token}` } });
        const scan = ((await r.json()) as { scan: { status: string } | null }).scan;
        if (scan && scan.status !== 'uploading' && scan.status !== 'processing') return;
        await new Promise((res) => setTimeout(res, 200));
      }
      throw new Error('the server did not finish ingesting the plain upload');
    };
    const cli = async (round: number): Promise<{ uploadMs: number; totalMs: number }> => {
      const started = performance.now();
      let uploadingAt = 0;
      let sentAt = 0;
      let out = '';
      const code = await new Promise<number | null>((resolve) => {
        const child = spawn(process.execPath, [join(repoRoot, 'bin/wsi-import.mjs'), 'upload', file, '--server', s.url, '--out', join(tmp.dir, `out-${round}`), '--token-file', tokenFile, '--direct'], { stdio: ['ignore', 'pipe', 'pipe'] });
        child.stdout.on('data', (d: Buffer) => {
          out += d;
          if (!uploadingAt && out.includes(': uploading')) uploadingAt = performance.now();
          if (!sentAt && out.includes(': sent;')) sentAt = performance.now();
        });
        child.stderr.on('data', (d: Buffer) => (out += d));
        child.once('exit', (c) => resolve(c));
      });
      if (!uploadingAt || !sentAt || code !== 0) throw new Error(`the CLI did not upload (exit ${code}):\n${out}`);
      return { uploadMs: sentAt - uploadingAt, totalMs: performance.now() - started };
    };
    const plainMsList: number[] = [];
    const cliRuns: { uploadMs: number; totalMs: number }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      plainMsList.push(await plain());
      cliRuns.push(await cli(round));
    }
    const plainMs = median(plainMsList);
    const cliMs = median(cliRuns.map((r) => r.uploadMs));
    const totalMs = median(cliRuns.map((r) => r.totalMs));
    const mibps = (ms: number) => size / MIB / (ms / 1000);
    const ratio = mibps(cliMs) / mibps(plainMs);
    return [
      { bench: 'cli-upload', metric: `plain tus-js-client (${Math.round(size / MIB)} MiB, loopback, median of ${ROUNDS})`, value: mibps(plainMs), unit: 'MiB/s' },
      { bench: 'cli-upload', metric: 'wsi-import upload, upload phase', value: mibps(cliMs), unit: 'MiB/s' },
      { bench: 'cli-upload', metric: 'CLI / plain throughput', value: ratio, unit: 'x', target: '>= 0.8', ok: ratio >= 0.8 },
      { bench: 'cli-upload', metric: 'wsi-import upload, whole run (hash, upload, server verdict)', value: mibps(totalMs), unit: 'MiB/s' },
    ];
  } finally {
    await s.stop();
    await removeDir(s.config.dataDir);
    await tmp.cleanup();
  }
}
