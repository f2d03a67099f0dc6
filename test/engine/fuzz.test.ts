/**
 * The CI fuzzer (issue 10 item 6). First every saved regression recipe in test/fuzz/regressions is
 * replayed; then mutations of every seed (real samples + synthetic slides) run for
 * WSI_FUZZ_SECONDS (60 by default) from a FIXED base seed, so CI replays the same case sequence.
 * Each case: open + Auto redact. A SlideError naming the file is fine; anything else thrown is a
 * CRASH, a case over the time limit a HANG, RSS growth over the limit MEMORY, and an output still
 * holding an identifying string of its seed a LEAK. Findings name the case and the string index,
 * never the string. `npm run fuzz -- --minutes N` runs longer with random seeds and saves recipes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CasePool } from '../fuzz/case-pool.ts';
import { describe, formatBySeed, formatFigures, fuzz, type Finding } from '../fuzz/fuzzer.ts';
import { loadRecipes } from '../fuzz/recipe.ts';
import { replayRecipes } from '../fuzz/replay.ts';
import { openSession, type Session } from '../fuzz/session.ts';

/** Fixed in CI so a failure there is the same case on every machine. */
const CI_BASE_SEED = 0x10f022;
const seconds = Number(process.env.WSI_FUZZ_SECONDS ?? 60);
const MAX_LISTED = 25;

let session: Session;
before(async () => {
  session = await openSession();
});
after(async () => {
  await session?.close();
});

test('fuzz: every saved regression recipe is now refused or comes out clean', { timeout: 600_000 }, async (t) => {
  const recipes = await loadRecipes();
  const replayed = await replayRecipes(session, recipes);
  const bad = replayed.filter((r) => r.problem);
  t.diagnostic(`regressions: ${replayed.length} replayed, ${replayed.length - bad.length} pass, ${bad.length} fail`);
  assert.equal(bad.length, 0, `${bad.length} of ${replayed.length} regression recipes still fail:\n${bad.map((r) => r.problem).join('\n')}`);
});

test(`fuzz: ${seconds} s of fixed-seed mutations find no crash, hang, memory blow-up or leak`, { timeout: (seconds + 300) * 1000 }, async (t) => {
  const findings: Finding[] = [];
  const figures = await fuzz({ session, seconds, baseSeed: CI_BASE_SEED, baseline: true, onFinding: (f) => void findings.push(f) });
  t.diagnostic(`fuzz figures: ${formatFigures(figures)}`);
  t.diagnostic(`refused by code: ${JSON.stringify(figures.refusedCodes)}`);
  for (const l of formatBySeed(figures)) t.diagnostic(l);
  for (const [k, n] of Object.entries(figures.classes).sort((a, b) => b[1] - a[1])) t.diagnostic(`  ${n} × ${k}`);
  assert.ok(figures.cases > session.seeds.length, `only ${figures.cases} cases ran (${session.seeds.length} seeds): the fuzzer did not get past the baseline`);
  const lines = findings.slice(0, MAX_LISTED).map(describe);
  if (findings.length > MAX_LISTED) lines.push(`… and ${findings.length - MAX_LISTED} more`);
  assert.equal(findings.length, 0, `${findings.length} failing case(s) (replay: base seed ${CI_BASE_SEED}; \`npm run fuzz\` saves recipes):\n${lines.join('\n')}`);
});

test('fuzz harness: the watchdog catches a hang, a memory blow-up and an escaped rejection', { timeout: 120_000 }, async () => {
  // Without this, a watchdog that never fires would let the CI fuzz test pass whatever happens.
  const dir = await mkdtemp(join(tmpdir(), 'wsi-fuzz-selftest-'));
  const manifestPath = join(dir, 'manifest.json');
  await writeFile(manifestPath, JSON.stringify({ seeds: [] }));
  process.env.WSI_FUZZ_SELFTEST = '1';
  const pool = new CasePool({ manifestPath, timeoutMs: 1500, memoryLimitBytes: () => 256 << 20 });
  try {
    assert.equal((await pool.run('selftest:hang', [], 0)).outcome.kind, 'hang');
    assert.equal((await pool.run('selftest:memory', [], 0)).outcome.kind, 'memory');
    const escaped = await pool.run('selftest:escape', [], 0);
    assert.equal(escaped.outcome.kind, 'crash');
    assert.match(escaped.outcome.kind === 'crash' ? escaped.outcome.what : '', /TypeError: selftest rejection/);
    assert.equal(pool.starts, 3, 'a fresh child after each kill');
  } finally {
    delete process.env.WSI_FUZZ_SELFTEST;
    pool.close();
    await rm(dir, { recursive: true, force: true });
  }
});
