/**
 * Regression recipes: every input the fuzzer failed on, kept as JSON (seed name + seed SHA-256 +
 * ops) in test/fuzz/regressions/ and replayed on every run. A recipe never holds the mutated
 * bytes or an identifying value, only how to remake the input from a seed everyone has.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MutationOp } from './ops.ts';
import type { OutcomeKind } from './run-case.ts';

export const regressionsDir = fileURLToPath(new URL('./regressions/', import.meta.url));

export interface Recipe {
  /** File name without .json. */
  id: string;
  /** What the case did when it was found. */
  class: Exclude<OutcomeKind, 'ok' | 'refused'>;
  seed: string;
  sha256: string;
  /** The PRNG seed the case was generated from (ops alone replay it). */
  prngSeed?: number;
  /** One group of ops per mutation; replay applies them in order. */
  mutations: MutationOp[][];
  /** What it showed (scrubbed of values: strings are named by index). */
  shows: string;
  found: string;
}

export function recipeId(r: Pick<Recipe, 'class' | 'seed' | 'mutations'>): string {
  const slug = r.seed.replace(/^gen:/, 'gen-').replace(/[^a-z0-9]+/gi, '-').replace(/-+$/, '').toLowerCase();
  const h = createHash('sha256').update(JSON.stringify(r.mutations)).digest('hex').slice(0, 8);
  return `${r.class}-${slug}-${h}`;
}

export async function loadRecipes(dir = regressionsDir): Promise<Recipe[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  } catch {
    return [];
  }
  return Promise.all(names.map(async (n) => ({ ...(JSON.parse(await readFile(join(dir, n), 'utf8')) as Recipe), id: n.replace(/\.json$/, '') })));
}

/** Write a recipe unless one with the same id exists; returns the path written, or undefined. */
export async function saveRecipe(r: Omit<Recipe, 'id'>, dir = regressionsDir): Promise<string | undefined> {
  await mkdir(dir, { recursive: true });
  const id = recipeId(r);
  const path = join(dir, `${id}.json`);
  const existing = await readdir(dir);
  if (existing.includes(`${id}.json`)) return undefined;
  await writeFile(path, `${JSON.stringify({ id, ...r }, null, 2)}\n`);
  return path;
}
