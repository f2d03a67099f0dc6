/**
 * The fuzz child process: loads the seeds named in the manifest (argv[2]), then runs the cases the
 * parent sends, one at a time. It is disposable: the parent kills it on a hang or a memory
 * blow-up and starts another.
 */
import { existsSync } from 'node:fs';
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
// Outputs are written with fsync (NodeFileSink.flush); on tmpfs that costs nothing, on disk it
// would dominate the case time.
const tmpRoot = await mkdtemp(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'wsi-fuzz-child-'));
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

/**
 * Self-test seeds (only with WSI_FUZZ_SELFTEST=1): misbehave on purpose so the tests can prove the
 * watchdog catches a CPU-bound hang, an RSS blow-up and a rejection that escapes the case.
 */
function selfTest(m: ToChild): boolean {
  if (process.env.WSI_FUZZ_SELFTEST !== '1' || !m.seed.startsWith('selftest:')) return false;
  current = { id: m.id, seed: { name: m.seed, kind: 'tiff', parts: [], identifying: [], sha256: '', weight: 0 } };
  if (m.seed === 'selftest:hang') for (;;);
  if (m.seed === 'selftest:memory') {
    const hold: Uint8Array[] = [];
    for (;;) hold.push(new Uint8Array(16 << 20).fill(1));
  }
  if (m.seed === 'selftest:escape') void Promise.reject(new TypeError('selftest rejection nobody awaited'));
  return true;
}

process.on('message', (m: ToChild) => {
  if (m.type !== 'case' || selfTest(m)) return;
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
