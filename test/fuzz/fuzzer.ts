/**
 * The fuzz loop: case i of a run is generated from caseSeed(base, i), so a run with a fixed base
 * replays the same sequence on every machine (CI), and one case can be remade from its PRNG seed.
 * The first cases of a run are the seeds unmutated (a baseline: a leak there is the engine's or a
 * wrong identifying list, not the mutation's).
 */
import { generateCase, mutatorsOf } from './generate-case.ts';
import type { MutationOp } from './ops.ts';
import { caseSeed, Prng } from './prng.ts';
import type { Outcome, OutcomeKind } from './run-case.ts';
import type { Seed } from './seeds.ts';
import type { Session } from './session.ts';

export interface Finding {
  index: number;
  prngSeed: number | undefined;
  seed: Seed;
  mutations: MutationOp[][];
  outcome: Exclude<Outcome, { kind: 'ok' } | { kind: 'refused' }>;
  ms: number;
}

export interface Figures {
  cases: number;
  ok: number;
  refused: number;
  crash: number;
  hang: number;
  memory: number;
  leak: number;
  /** Refusals whose message does not name the file. */
  unnamed: number;
  seconds: number;
  /** Refusals by error code. */
  refusedCodes: Record<string, number>;
  /** Failures by class, seed and mutators ("leak small.svs tiff-unlink"). */
  classes: Record<string, number>;
  /** Leaks by identifying-string index per seed ("small.svs #0"). */
  leakedStrings: Record<string, number>;
  peakRssGrowthMiB: number;
  childStarts: number;
  /** Cases per seed: [cases, ok, refused, failed] (is every seed reached, and does it get past open?). */
  bySeed: Record<string, [number, number, number, number]>;
}

export interface FuzzOptions {
  session: Session;
  seconds: number;
  baseSeed: number;
  /** Run each seed unmutated first. */
  baseline?: boolean;
  maxCases?: number;
  onFinding?: (f: Finding) => void | Promise<void>;
  onProgress?: (f: Figures) => void;
}

export function emptyFigures(): Figures {
  return { cases: 0, ok: 0, refused: 0, crash: 0, hang: 0, memory: 0, leak: 0, unnamed: 0, seconds: 0, refusedCodes: {}, classes: {}, leakedStrings: {}, peakRssGrowthMiB: 0, childStarts: 0, bySeed: {} };
}

export function isFailure(o: Outcome): o is Finding['outcome'] {
  return o.kind !== 'ok' && o.kind !== 'refused';
}

export function count(fig: Figures, seed: Seed, mutations: MutationOp[][], o: Outcome, peakRss: number): void {
  fig.cases++;
  fig[o.kind as OutcomeKind]++;
  fig.peakRssGrowthMiB = Math.max(fig.peakRssGrowthMiB, Math.round(peakRss / 2 ** 20));
  if (o.kind === 'refused') fig.refusedCodes[o.code] = (fig.refusedCodes[o.code] ?? 0) + 1;
  const per = (fig.bySeed[seed.name] ??= [0, 0, 0, 0]);
  per[0]++;
  per[o.kind === 'ok' ? 1 : o.kind === 'refused' ? 2 : 3]++;
  if (!isFailure(o)) return;
  const key = `${o.kind} ${seed.name} ${mutatorsOf(mutations).join('+') || 'unmutated'}`;
  fig.classes[key] = (fig.classes[key] ?? 0) + 1;
  if (o.kind === 'leak') {
    for (const i of new Set(o.hits.map((h) => h.index))) {
      const k = `${seed.name} #${i}`;
      fig.leakedStrings[k] = (fig.leakedStrings[k] ?? 0) + 1;
    }
  }
}

function pickSeed(rng: Prng, seeds: readonly Seed[]): Seed {
  return rng.weighted(seeds.map((s) => [s, s.weight] as const));
}

export async function fuzz(o: FuzzOptions): Promise<Figures> {
  const fig = emptyFigures();
  const t0 = performance.now();
  const deadline = t0 + o.seconds * 1000;
  const seeds = o.session.seeds;
  for (let i = 0; performance.now() < deadline && (o.maxCases === undefined || i < o.maxCases); i++) {
    let seed: Seed;
    let mutations: MutationOp[][];
    let prngSeed: number | undefined;
    if (o.baseline && i < seeds.length) {
      seed = seeds[i]!;
      mutations = [];
    } else {
      prngSeed = caseSeed(o.baseSeed, i);
      const rng = new Prng(prngSeed);
      seed = pickSeed(rng, seeds);
      mutations = generateCase(rng, seed);
    }
    const r = await o.session.run(seed, mutations);
    count(fig, seed, mutations, r.outcome, r.peakRssGrowth);
    if (isFailure(r.outcome)) await o.onFinding?.({ index: i, prngSeed, seed, mutations, outcome: r.outcome, ms: r.ms });
    if (fig.cases % 50 === 0) {
      fig.seconds = (performance.now() - t0) / 1000;
      o.onProgress?.(fig);
    }
  }
  fig.seconds = (performance.now() - t0) / 1000;
  fig.childStarts = o.session.starts;
  return fig;
}

/** Drop whole mutations while the case still fails the same way (smaller recipes read better). */
export async function minimize(session: Session, seed: Seed, mutations: MutationOp[][], kind: OutcomeKind): Promise<MutationOp[][]> {
  let cur = mutations;
  for (let k = cur.length - 1; k >= 0 && cur.length > 1; k--) {
    const without = cur.filter((_, j) => j !== k);
    const r = await session.run(seed, without);
    if (r.outcome.kind === kind) cur = without;
  }
  return cur;
}

/** One line per finding, naming the case and the string index, never a value. */
export function describe(f: Pick<Finding, 'index' | 'prngSeed' | 'seed' | 'mutations' | 'outcome'>): string {
  const o = f.outcome;
  const what = o.kind === 'leak'
    ? o.hits.map((h) => `string #${h.index} (${h.encoding}) in ${h.file}${h.offset >= 0 ? ` @${h.offset}` : ''}`).join(', ')
    : o.kind === 'hang' ? `no result after ${o.ms} ms` : o.what;
  const muts = f.mutations.map((g) => g[0]?.why ?? g[0]?.op).join(' | ') || 'unmutated';
  return `${o.kind.toUpperCase()} case ${f.index}${f.prngSeed !== undefined ? ` (prng ${f.prngSeed})` : ''} seed ${f.seed.name} [${muts}]: ${what}`;
}

/** One line per seed: cases, ok, refused, failed. */
export function formatBySeed(f: Figures): string[] {
  return Object.entries(f.bySeed).sort((a, b) => b[1][0] - a[1][0]).map(([k, [n, ok, ref, bad]]) => `${String(n).padStart(6)} cases ${k}: ok ${ok}, refused ${ref}, failed ${bad}`);
}

export function formatFigures(f: Figures): string {
  const rate = f.seconds > 0 ? (f.cases / f.seconds).toFixed(1) : '0';
  return `cases ${f.cases} (${rate}/s), ok ${f.ok}, refused ${f.refused}, crashes ${f.crash}, hangs ${f.hang}, memory ${f.memory}, leaks ${f.leak}, unnamed refusals ${f.unnamed}, seconds ${f.seconds.toFixed(1)}, peak RSS growth ${f.peakRssGrowthMiB} MiB, child starts ${f.childStarts}`;
}
