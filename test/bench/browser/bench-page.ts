/**
 * Bench page (driven by test/bench/opfs.bench.ts through Playwright): the product's engine worker
 * plus the bench helper worker, reachable as `window.wsiBench`. Inputs are OPFS files handed to
 * the engine as File objects, the same kind of source the plain copy reads.
 */
import { wrap } from 'comlink';
import { registerSlideErrorTransfer } from '../../../src/shared/comlink-errors.ts';
import type { EngineApi } from '../../../src/workers/engine-api.ts';
import type { BenchWorkerApi } from './bench-api.ts';

registerSlideErrorTransfer();
const engine = wrap<EngineApi>(new Worker(new URL('./engine.worker.js', import.meta.url), { type: 'module' }));
const tool = wrap<BenchWorkerApi>(new Worker(new URL('./bench.worker.js', import.meta.url), { type: 'module' }));

async function opfsFile(path: string): Promise<File> {
  let d = await navigator.storage.getDirectory();
  const parts = path.split('/').filter(Boolean);
  const name = parts.pop()!;
  for (const p of parts) d = await d.getDirectoryHandle(p);
  return (await d.getFileHandle(name)).getFile();
}

const wsiBench = {
  makeTiff: tool.makeTiff,
  makeDicom: tool.makeDicom,
  copy: tool.copy,
  profile: tool.profile,
  remove: tool.remove,
  hashRate: tool.hashRate,
  async redact(path: string, outDir: string): Promise<{ ms: number; bytes: number; ok: boolean; valuesSearched: number; outputs: number }> {
    const file = await opfsFile(path);
    const [r] = await engine.inspect([file]);
    if (!r || !r.ok) throw new Error(`inspect failed: ${JSON.stringify(r)}`);
    const request = { ...r.slide.defaultRequest, options: { uidKey: 'ab'.repeat(32) } };
    const t0 = performance.now();
    const report = await engine.redactToOpfs(r.slide.key, request, outDir);
    const ms = performance.now() - t0;
    await engine.close(r.slide.key);
    return { ms, bytes: report.outputs.reduce((a, o) => a + o.size, 0), ok: report.verify.ok && report.sweep.ok, valuesSearched: report.sweep.valuesSearched, outputs: report.outputs.length };
  },
};

(globalThis as unknown as { wsiBench: typeof wsiBench }).wsiBench = wsiBench;
document.title = 'ready';
