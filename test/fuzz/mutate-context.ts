/**
 * What every mutator gets: the PRNG, the case's current bytes (earlier ops already applied) and the
 * seed's identifying strings, so structural mutations aim at the bytes that matter.
 */
import type { Prng } from './prng.ts';
import type { MutationOp } from './ops.ts';

export interface MutateContext {
  rng: Prng;
  parts: readonly Uint8Array[];
  /** The part this mutation works on. */
  part: number;
  identifying: readonly string[];
}

/** A mutator returns the ops it chose (empty when it does not apply to these bytes). */
export type Mutator = (ctx: MutateContext) => MutationOp[];

/** Every offset at which `needle` (Latin-1) occurs in `bytes`. */
export function findAll(bytes: Uint8Array, needle: string, limit = 64): number[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Buffer.from(needle, 'latin1');
  const out: number[] = [];
  if (n.length === 0) return out;
  for (let at = buf.indexOf(n); at >= 0 && out.length < limit; at = buf.indexOf(n, at + 1)) out.push(at);
  return out;
}

/** Does [pos, pos+len) contain any identifying string? */
export function holdsIdentifying(bytes: Uint8Array, pos: number, len: number, identifying: readonly string[]): boolean {
  if (pos < 0 || len <= 0 || pos >= bytes.length) return false;
  const s = Buffer.from(bytes.buffer, bytes.byteOffset + pos, Math.min(len, bytes.length - pos)).toString('latin1');
  return identifying.some((v) => v.length >= 4 && s.includes(v));
}

export function latin1Bytes(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'latin1'));
}
