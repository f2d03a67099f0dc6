/**
 * A fuzz session: the seeds loaded once, written to a temp dir for the child, and the case pool.
 * Shared by the CI test (test/engine/fuzz.test.ts) and `npm run fuzz` (run.ts).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { cleanupGenerated } from '../fixtures/dicom/generate.ts';
import { CasePool, type CaseResult } from './case-pool.ts';
import type { MutationOp } from './ops.ts';
import type { SeedManifest } from './protocol.ts';
import { loadSeeds, type Seed } from './seeds.ts';

export interface SessionOptions {
  only?: (seedName: string) => boolean;
  timeoutMs?: number;
}

export interface Session {
  seeds: Seed[];
  seed(name: string): Seed | undefined;
  run(seed: Seed, mutations: readonly (readonly MutationOp[])[]): Promise<CaseResult>;
  readonly starts: number;
  close(): Promise<void>;
}

const MiB = 2 ** 20;

/** RSS growth allowed per case: 20× the input, at least 256 MiB (GC slack), at most 1 GiB. */
export function memoryLimit(inputBytes: number): number {
  return Math.min(1024 * MiB, Math.max(256 * MiB, 20 * inputBytes));
}

export async function openSession(o: SessionOptions = {}): Promise<Session> {
  const seeds = await loadSeeds(o.only);
  cleanupGenerated(); // the generator's temp dir: our copies below are what the child reads
  const dir = await mkdtemp(join(tmpdir(), 'wsi-fuzz-'));
  const manifest: SeedManifest = { seeds: [] };
  for (const [i, s] of seeds.entries()) {
    const sub = join(dir, String(i));
    await mkdir(sub);
    const parts = [];
    for (const p of s.parts) {
      const path = join(sub, p.name);
      await mkdir(dirname(path), { recursive: true }); // MIRAX parts sit in their folder
      await writeFile(path, p.bytes);
      parts.push({ name: p.name, path });
    }
    manifest.seeds.push({ name: s.name, kind: s.kind, identifying: s.identifying, sha256: s.sha256, weight: s.weight, parts });
  }
  const manifestPath = join(dir, 'manifest.json');
  await writeFile(manifestPath, JSON.stringify(manifest));
  const pool = new CasePool({ manifestPath, timeoutMs: o.timeoutMs ?? 15_000, memoryLimitBytes: memoryLimit });
  const byName = new Map(seeds.map((s) => [s.name, s]));
  return {
    seeds,
    seed: (name) => byName.get(name),
    run: (seed, mutations) => {
      const ops = mutations.flat();
      const inputBytes = seed.parts.reduce((a, p) => a + p.bytes.length, 0);
      return pool.run(seed.name, ops, inputBytes);
    },
    get starts() {
      return pool.starts;
    },
    close: async () => {
      pool.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
