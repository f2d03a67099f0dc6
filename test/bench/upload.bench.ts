/**
 * Upload finalisation: the server hashes a part as its bytes arrive, so the last PATCH should cost
 * about what any PATCH of its size costs. Reported as the ratio final-PATCH / an ordinary 1 MiB
 * PATCH measured in the same run (target <= 3), for a 512 MiB upload.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { BenchRow } from './run.ts';
import { memberOf, partMeta, removeDir, startServer, tusCreate, tusPatch } from '../server/support.ts';

const MIB = 1024 * 1024;

export async function run(): Promise<BenchRow[]> {
  const size = 512 * MIB;
  const chunk = 64 * MIB;
  const s = await startServer({ maxUploadBytes: size + 1 });
  try {
    const { client } = await memberOf(s, 'Demo Lab', 'bench', 'lab-user');
    const block = randomBytes(chunk);
    const h = createHash('sha256');
    for (let o = 0; o < size; o += chunk) h.update(block.subarray(0, Math.min(chunk, size - o)));
    const { path } = await tusCreate(client, size, { ...partMeta(Buffer.alloc(0), { sha256: h.digest('hex') }) });
    if (!path) throw new Error('upload not created');
    // Big PATCHes, then one ordinary 1 MiB PATCH (the baseline), then the final 1 MiB PATCH.
    let off = 0;
    const timed = async (n: number) => {
      const t0 = performance.now();
      const r = await tusPatch(client, path, off, block.subarray(off % chunk, (off % chunk) + n));
      if (r.status !== 204) throw new Error(`PATCH ${r.status}`);
      off += n;
      return { ms: performance.now() - t0, status: r.headers.get('x-part-status') };
    };
    while (off + chunk <= size - 2 * MIB) await timed(chunk);
    while (off < size - 2 * MIB) await timed(Math.min(chunk, size - 2 * MIB - off));
    const ordinary = await timed(MIB);
    const final = await timed(MIB);
    if (final.status !== 'complete') throw new Error(`final PATCH status ${final.status}`);
    const ratio = final.ms / ordinary.ms;
    return [
      { bench: 'upload', metric: 'ordinary 1 MiB PATCH', value: ordinary.ms, unit: 'ms' },
      { bench: 'upload', metric: 'final 1 MiB PATCH (512 MiB upload)', value: final.ms, unit: 'ms' },
      { bench: 'upload', metric: 'final / ordinary PATCH', value: ratio, unit: 'x', target: '<= 3', ok: ratio <= 3 },
      { bench: 'upload', metric: 'bytes re-read to finalise', value: s.built.uploadStore.rehashedBytes, unit: 'B', target: '0', ok: s.built.uploadStore.rehashedBytes === 0 },
    ];
  } finally {
    await s.stop();
    await removeDir(s.config.dataDir);
  }
}
