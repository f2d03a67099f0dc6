// What the Node engine benchmarks measure alike: the plain-copy baseline, a quiet disk between
// runs, and peak memory growth while something runs.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { NodeFileSink, NodeFileSource } from '../../../src/engine/io/node/file-source.ts';

const MiB = 1024 * 1024;

/** The baseline: the same bytes copied with the engine's own file source and sink, `chunk` at a time. */
export async function plainCopy(from: string, to: string, chunk = 8 * MiB): Promise<number> {
  const t0 = performance.now();
  const src = await NodeFileSource.open(from);
  const sink = await NodeFileSink.create(to);
  for (let o = 0; o < src.size; o += chunk) await sink.write(o, await src.read(o, chunk));
  await sink.flush();
  await sink.close();
  await src.close();
  return performance.now() - t0;
}

/**
 * Removes a run's outputs and flushes dirty pages (`sync`), so one run's write-back does not slow
 * the next (it dominated single runs).
 */
export function settle(...remove: string[]): void {
  for (const p of remove) rmSync(p, { recursive: true, force: true });
  execFileSync('sync');
}

/** Peak growth of this process's RSS and JS heap while `fn` runs (sampled every `everyMs`). */
export async function memoryDuring<T>(fn: () => Promise<T>, everyMs = 20): Promise<{ value: T; rssGrowth: number; heapGrowth: number }> {
  const base = process.memoryUsage();
  let peakRss = base.rss;
  let peakHeap = base.heapUsed;
  const sample = () => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  };
  const timer = setInterval(sample, everyMs);
  try {
    const value = await fn();
    sample();
    return { value, rssGrowth: peakRss - base.rss, heapGrowth: peakHeap - base.heapUsed };
  } finally {
    clearInterval(timer);
  }
}
