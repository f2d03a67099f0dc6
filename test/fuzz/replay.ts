/** Replay saved recipes: each must now be refused or come out clean. */
import type { Recipe } from './recipe.ts';
import type { Outcome } from './run-case.ts';
import type { Session } from './session.ts';
import { describe, isFailure } from './fuzzer.ts';

export interface Replayed {
  recipe: Recipe;
  outcome?: Outcome;
  /** Why the replay failed: the case still fails, or its seed is gone or changed. */
  problem?: string;
}

export async function replayRecipes(session: Session, recipes: readonly Recipe[]): Promise<Replayed[]> {
  const out: Replayed[] = [];
  for (const recipe of recipes) {
    const seed = session.seed(recipe.seed);
    if (!seed) {
      out.push({ recipe, problem: `seed ${recipe.seed} is not available` });
      continue;
    }
    if (seed.sha256 !== recipe.sha256) {
      // The ops are byte offsets into that exact seed; on another seed they mean nothing.
      out.push({ recipe, problem: `seed ${recipe.seed} changed (sha256 ${seed.sha256.slice(0, 12)}…, recipe made on ${recipe.sha256.slice(0, 12)}…)` });
      continue;
    }
    const r = await session.run(seed, recipe.mutations);
    const o = r.outcome;
    out.push(isFailure(o)
      ? { recipe, outcome: o, problem: describe({ index: -1, prngSeed: recipe.prngSeed, seed, mutations: recipe.mutations, outcome: o }).replace('case -1', `recipe ${recipe.id}`) }
      : { recipe, outcome: o });
  }
  return out;
}
