/**
 * `npm run fuzz -- --minutes N [--seed N] [--out DIR] [--only REGEX] [--timeout-ms N] [--no-replay]`
 * Replays the saved regressions, then fuzzes with a random (or given) base seed for N minutes,
 * prints the figures and writes every new failing case, minimized, as a recipe to DIR
 * (test/fuzz/regressions by default) so it becomes a regression case. Exit 1 on any failure.
 */
import { randomInt } from 'node:crypto';
import { parseArgs } from 'node:util';
import { describe, formatBySeed, formatFigures, fuzz, minimize, type Finding } from './fuzzer.ts';
import { loadRecipes, regressionsDir, saveRecipe } from './recipe.ts';
import { replayRecipes } from './replay.ts';
import { openSession } from './session.ts';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '1' },
    seed: { type: 'string' },
    out: { type: 'string', default: regressionsDir },
    only: { type: 'string' },
    'timeout-ms': { type: 'string', default: '15000' },
    'no-replay': { type: 'boolean', default: false },
    'max-recipes-per-class': { type: 'string', default: '2' },
  },
});
const minutes = Number(values.minutes);
const baseSeed = values.seed !== undefined ? Number(values.seed) : randomInt(2 ** 31);
if (!Number.isFinite(minutes) || minutes <= 0 || !Number.isInteger(baseSeed)) {
  process.stderr.write('usage: npm run fuzz -- --minutes N [--seed N] [--out DIR] [--only REGEX]\n');
  process.exit(2);
}
const only = values.only ? new RegExp(values.only) : undefined;
const session = await openSession({ ...(only ? { only: (n: string) => only.test(n) } : {}), timeoutMs: Number(values['timeout-ms']) });
const log = (s: string) => process.stdout.write(`${s}\n`);
let failed = 0;
try {
  log(`fuzz: ${session.seeds.length} seeds, base seed ${baseSeed}, ${minutes} min, recipes to ${values.out}`);
  if (!values['no-replay']) {
    const recipes = (await loadRecipes()).filter((r) => !only || only.test(r.seed));
    const replayed = await replayRecipes(session, recipes);
    const bad = replayed.filter((r) => r.problem);
    log(`regressions: ${replayed.length} replayed, ${replayed.length - bad.length} pass, ${bad.length} fail`);
    for (const r of bad) log(`  ${r.problem}`);
    failed += bad.length;
  }
  const perClass = new Map<string, number>();
  const maxPerClass = Number(values['max-recipes-per-class']);
  const saved: string[] = [];
  const findings: Finding[] = [];
  const figures = await fuzz({
    session,
    seconds: minutes * 60,
    baseSeed,
    baseline: true,
    onProgress: (f) => {
      if (f.cases % 500 === 0) log(`  … ${formatFigures(f)}`);
    },
    onFinding: async (f) => {
      findings.push(f);
      const key = `${f.outcome.kind} ${f.seed.name} ${f.mutations.map((g) => (g[0]?.why ?? '').split(':')[0]).sort().join('+')}`;
      if ((perClass.get(key) ?? 0) >= maxPerClass) return;
      perClass.set(key, (perClass.get(key) ?? 0) + 1);
      const mutations = await minimize(session, f.seed, f.mutations, f.outcome.kind);
      const shown = mutations.length === f.mutations.length ? f : { ...f, mutations };
      const path = await saveRecipe({
        class: f.outcome.kind,
        seed: f.seed.name,
        sha256: f.seed.sha256,
        ...(f.prngSeed !== undefined ? { prngSeed: f.prngSeed } : {}),
        mutations,
        shows: describe(shown),
        found: new Date().toISOString().slice(0, 10),
      }, values.out);
      if (path) saved.push(path);
    },
  });
  figures.childStarts = session.starts;
  failed += findings.length;
  log(`\nfigures: ${formatFigures(figures)}`);
  log(`refused by code: ${JSON.stringify(figures.refusedCodes)}`);
  log('cases by seed:');
  for (const l of formatBySeed(figures)) log(`  ${l}`);
  const classes = Object.entries(figures.classes).sort((a, b) => b[1] - a[1]);
  if (classes.length > 0) {
    log('findings by class, seed and mutators:');
    for (const [k, n] of classes) log(`  ${String(n).padStart(6)}  ${k}`);
    log(`leaked strings (seed #index: cases): ${JSON.stringify(figures.leakedStrings)}`);
    log('first findings:');
    for (const f of findings.slice(0, 30)) log(`  ${describe(f)}`);
  }
  log(`new recipes written: ${saved.length}${saved.length ? `\n  ${saved.join('\n  ')}` : ''}`);
} finally {
  await session.close();
}
process.exitCode = failed > 0 ? 1 : 0;
