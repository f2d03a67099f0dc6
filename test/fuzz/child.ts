/**
 * The fuzz child process: loads the seeds named in the manifest (argv[2]), then runs the cases the
 * parent sends, one at a time. It is disposable: the parent kills it on a hang or a memory
 * blow-up and starts another.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FromChild, SeedManifest, ToChild } from './protocol.ts';
import { runCase } from './run-case.ts';
import { needles, type Seed } from './seeds.ts';
import { scrub } from './run-case.ts';

const manifest = JSON.parse(await readFile(process.argv[2]!, 'utf8')) as SeedManifest;
const seeds = new Map<string, Seed>();
for (const s of manifest.seeds) {
  const parts = await Promise.all(s.parts.map(async (p) => ({ name: p.name, bytes: new Uint8Array(await readFile(p.path)) })));
  seeds.set(s.name, { name: s.name, kind: s.kind, identifying: s.identifying, sha256: s.sha256, weight: s.weight, parts });
}
const tmpRoot = await mkdtemp(join(tmpdir(), 'wsi-fuzz-child-'));
let current: { id: number; seed: Seed } | undefined;

function send(m: FromChild): void {
  process.send?.(m);
}

// A rejection nobody awaited is a bug of the engine (a floating promise): report it against the
// case that was running, then die so no state leaks into the next case.
const fatal = (e: unknown) => {
  const what = e instanceof Error ? `${e.name}: ${e.message}\n${e.stack?.split('\n').slice(1, 4).join('\n') ?? ''}` : String(e);
  send({ type: 'fatal', id: current?.id ?? -1, what: current ? scrub(what, needles(current.seed)) : what });
  void rm(tmpRoot, { recursive: true, force: true }).finally(() => process.exit(70));
};
process.on('unhandledRejection', fatal);
process.on('uncaughtException', fatal);
process.on('disconnect', () => {
  void rm(tmpRoot, { recursive: true, force: true }).finally(() => process.exit(0));
});

process.on('message', (m: ToChild) => {
  if (m.type !== 'case') return;
  const seed = seeds.get(m.seed);
  if (!seed) {
    send({ type: 'fatal', id: m.id, what: `unknown seed ${m.seed}` });
    return;
  }
  current = { id: m.id, seed };
  const t0 = performance.now();
  runCase(seed, m.ops, tmpRoot).then(
    (outcome) => {
      current = undefined;
      // Collect between cases so the parent's RSS watch measures this case, not old garbage.
      (globalThis as { gc?: () => void }).gc?.();
      send({ type: 'result', id: m.id, outcome, ms: performance.now() - t0 });
    },
    fatal,
  );
});
send({ type: 'ready' });
