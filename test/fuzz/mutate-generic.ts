/**
 * Format-blind mutations: bit flips, byte runs, truncation, insertion, deletion, duplication of a
 * range at another offset. Positions lean towards the structure (the first KiB, and around the
 * identifying strings) because most of a slide is pixel data that no parser looks inside.
 */
import { toHex } from './ops.ts';
import { findAll, type MutateContext, type Mutator } from './mutate-context.ts';

function position(ctx: MutateContext): number {
  const b = ctx.parts[ctx.part]!;
  const { rng } = ctx;
  if (b.length === 0) return 0;
  const r = rng.int(10);
  if (r < 3) return rng.int(Math.min(b.length, 1024));
  if (r < 6) {
    const v = ctx.identifying.length > 0 ? rng.pick(ctx.identifying) : '';
    const hits = v ? findAll(b, v, 8) : [];
    if (hits.length > 0) return Math.max(0, Math.min(b.length - 1, rng.pick(hits) + rng.range(-64, 64)));
  }
  if (r < 8) return Math.max(0, b.length - 1 - rng.int(Math.min(b.length, 4096)));
  return rng.int(b.length);
}

export const bitFlips: Mutator = (ctx) => {
  const n = ctx.rng.weighted([[1, 5], [2, 2], [4, 2], [8, 1]] as const);
  return Array.from({ length: n }, () => ({ op: 'flip' as const, part: ctx.part, at: position(ctx), bit: ctx.rng.int(8), why: 'bit-flip' }));
};

export const byteRun: Mutator = (ctx) => {
  const { rng } = ctx;
  const len = rng.weighted([[1, 3], [2, 2], [4, 3], [8, 2], [64, 1]] as const);
  const fill = rng.weighted([['zero', 2], ['ff', 2], ['random', 3], ['interesting', 3]] as const);
  let bytes: Uint8Array;
  if (fill === 'random') bytes = rng.bytes(len);
  else if (fill === 'interesting') {
    // Boundary values that parsers get wrong: 0, 1, -1, 0x7f.., 0x80.. in either byte order.
    const pool = [0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe, 0x10, 0x20];
    bytes = Uint8Array.from({ length: len }, () => rng.pick(pool));
  } else bytes = new Uint8Array(len).fill(fill === 'zero' ? 0 : 0xff);
  return [{ op: 'set', part: ctx.part, at: position(ctx), hex: toHex(bytes), why: `byte-run ${fill} x${len}` }];
};

export const truncate: Mutator = (ctx) => {
  const b = ctx.parts[ctx.part]!;
  const { rng } = ctx;
  const size = rng.weighted([[position(ctx), 3], [b.length - 1 - rng.int(16), 2], [rng.int(b.length), 2], [rng.int(Math.min(b.length, 512)), 1]] as const);
  return [{ op: 'truncate', part: ctx.part, size: Math.max(0, size), why: 'truncate' }];
};

export const insertBytes: Mutator = (ctx) => {
  const { rng } = ctx;
  const len = rng.weighted([[1, 3], [4, 3], [16, 2], [300, 1]] as const);
  const bytes = rng.chance(0.5) ? rng.bytes(len) : new Uint8Array(len);
  return [{ op: 'insert', part: ctx.part, at: position(ctx), hex: toHex(bytes), why: `insert x${len}` }];
};

export const deleteBytes: Mutator = (ctx) => {
  const len = ctx.rng.weighted([[1, 3], [2, 2], [4, 3], [64, 1]] as const);
  return [{ op: 'delete', part: ctx.part, at: position(ctx), len, why: `delete x${len}` }];
};

/** Copy a range (often one holding an identifying string) over another offset. */
export const duplicateRange: Mutator = (ctx) => {
  const b = ctx.parts[ctx.part]!;
  const { rng } = ctx;
  if (b.length < 2) return [];
  let from = position(ctx);
  let len = rng.range(1, 256);
  const v = ctx.identifying.length > 0 && rng.chance(0.7) ? rng.pick(ctx.identifying) : '';
  const hits = v ? findAll(b, v, 8) : [];
  if (hits.length > 0) {
    from = rng.pick(hits);
    len = v.length;
  }
  const to = rng.chance(0.3) ? b.length + rng.int(16) : rng.int(b.length);
  return [{ op: 'copy', part: ctx.part, from, to, len, why: `duplicate range x${len}` }];
};
