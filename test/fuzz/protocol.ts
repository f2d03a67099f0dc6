/** Messages between the fuzz parent (case-pool.ts) and its child process (child.ts). */
import type { MutationOp } from './ops.ts';
import type { Outcome } from './run-case.ts';
import type { SeedKind } from './seeds.ts';

/** Where the child finds the seeds: the parent writes every part to disk once. */
export interface SeedManifest {
  seeds: { name: string; kind: SeedKind; identifying: string[]; sha256: string; weight: number; parts: { name: string; path: string }[] }[];
}

export type ToChild = { type: 'case'; id: number; seed: string; ops: MutationOp[] };

export type FromChild =
  | { type: 'ready' }
  | { type: 'result'; id: number; outcome: Outcome; ms: number }
  /** Something escaped the case's promise (unhandled rejection, uncaught exception). */
  | { type: 'fatal'; id: number; what: string };
