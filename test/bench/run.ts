/**
 * Benchmark driver (`npm run bench`): runs every test/bench/*.bench.ts module's `run()` in turn and
 * prints one table plus one JSON document with all results. A module returns rows; `ok` compares
 * the measured value with the module's target where there is one.
 */
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface BenchRow {
  bench: string;
  metric: string;
  value: number;
  unit: string;
  target?: string;
  ok?: boolean;
}

export interface BenchModule {
  run(): Promise<BenchRow[]>;
}

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = (await readdir(here)).filter((f) => f.endsWith('.bench.ts') && (only.length === 0 || only.some((o) => f.includes(o)))).sort();
const rows: BenchRow[] = [];
// Only a crash (a module that throws or has no run()) fails the run; a missed target is a
// finding to report, shown as MISSED in the table and as ok:false in the JSON.
const crashed: string[] = [];
for (const f of files) {
  process.stderr.write(`running ${f}…\n`);
  try {
    const mod = (await import(pathToFileURL(join(here, f)).href)) as Partial<BenchModule>;
    if (typeof mod.run !== 'function') throw new Error(`${f} does not export run(): Promise<BenchRow[]>`);
    rows.push(...(await mod.run()));
  } catch (e) {
    crashed.push(f);
    process.stderr.write(`${f} failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  }
}
const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(3));
const table = rows.map((r) => [r.bench, r.metric, `${fmt(r.value)} ${r.unit}`, r.target ?? '', r.ok === undefined ? '' : r.ok ? 'ok' : 'MISSED']);
const widths = [0, 1, 2, 3, 4].map((i) => Math.max(...[['bench', 'metric', 'value', 'target', ''], ...table].map((r) => r[i]!.length)));
for (const r of [['bench', 'metric', 'value', 'target', ''], ...table]) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join('  '));
console.log(JSON.stringify({ results: rows, crashed }, null, 2));
if (crashed.length > 0) process.exitCode = 1;
