/**
 * TIFF-aware mutations, recorded as plain byte edits: entry headers rewritten (tag renumbered to an
 * unknown/private/free-text tag, type, count, value offset), IFDs unlinked from the chain with
 * their bytes left in place (anonymize-slide, wsi-anon), a value rewritten at the end of the file
 * with the old one left behind (libtiff's `tiffset -s 270`), values moved or duplicated, next
 * pointers aimed elsewhere, a strip or tile pointed into another value (overlap).
 */
import { toHex, type MutationOp } from './ops.ts';
import { encodeUint, walkTiff, type TiffEntry, type TiffLayout } from './tiff-walk.ts';
import { holdsIdentifying, latin1Bytes, type MutateContext, type Mutator } from './mutate-context.ts';

const ASCII = 2;
/** Renumbering targets: unknown standard tags, free-text tags, private tags, and nonsense. */
const TAG_TARGETS = [337, 337, 65000, 65535, 0, 269, 285, 305, 315, 316, 700, 33432, 37510, 42016, 50838, 34665, 270, 1];
const TYPE_TARGETS = [1, 2, 3, 4, 5, 7, 11, 12, 13, 16, 0, 14, 255];

interface Ctx {
  ctx: MutateContext;
  b: Uint8Array;
  layout: TiffLayout;
  entries: TiffEntry[];
}

function prepare(ctx: MutateContext): Ctx | undefined {
  const b = ctx.parts[ctx.part]!;
  const layout = walkTiff(b);
  if (!layout || layout.ifds.length === 0) return undefined;
  return { ctx, b, layout, entries: layout.ifds.flatMap((i) => i.entries) };
}

/** An entry, preferring those whose value holds an identifying string (or ASCII ones). */
function pickEntry(t: Ctx, filter: (e: TiffEntry) => boolean = () => true): TiffEntry | undefined {
  const { rng, identifying } = t.ctx;
  const all = t.entries.filter(filter);
  if (all.length === 0) return undefined;
  if (rng.chance(0.6)) {
    const phi = all.filter((e) => holdsIdentifying(t.b, e.valuePos, e.byteLength, identifying));
    if (phi.length > 0) return rng.pick(phi);
  }
  if (rng.chance(0.5)) {
    const text = all.filter((e) => e.type === ASCII);
    if (text.length > 0) return rng.pick(text);
  }
  return rng.pick(all);
}

function uint(t: Ctx, value: number, size = t.layout.offSize): string {
  return toHex(encodeUint(value, size, t.layout.little));
}

function setOp(t: Ctx, at: number, hex: string, why: string): MutationOp {
  return { op: 'set', part: t.ctx.part, at, hex, why };
}

export const tiffRenumberTag: Mutator = (ctx) => {
  const t = prepare(ctx);
  const e = t && pickEntry(t);
  if (!t || !e) return [];
  const to = ctx.rng.chance(0.8) ? ctx.rng.pick(TAG_TARGETS) : ctx.rng.int(65536);
  return [setOp(t, e.pos, uint(t, to, 2), `tiff-renumber: tag ${e.tag} -> ${to}`)];
};

export const tiffRetype: Mutator = (ctx) => {
  const t = prepare(ctx);
  const e = t && pickEntry(t);
  if (!t || !e) return [];
  const to = ctx.rng.pick(TYPE_TARGETS);
  return [setOp(t, e.pos + 2, uint(t, to, 2), `tiff-retype: tag ${e.tag} type ${e.type} -> ${to}`)];
};

export const tiffRecount: Mutator = (ctx) => {
  const t = prepare(ctx);
  const e = t && pickEntry(t);
  if (!t || !e) return [];
  const { rng } = ctx;
  const max = t.layout.big ? 2 ** 53 - 1 : 0xffffffff;
  const to = rng.pick([0, 1, Math.max(0, e.count - 1), e.count + 1, e.count * 2, Math.floor(e.count / 2), 0x7fffffff, max, rng.int(1 << 20)]);
  return [setOp(t, e.pos + 4, uint(t, to, t.layout.big ? 8 : 4), `tiff-recount: tag ${e.tag} count ${e.count} -> ${to}`)];
};

export const tiffReoffset: Mutator = (ctx) => {
  const t = prepare(ctx);
  const e = t && pickEntry(t, (x) => !x.inline);
  if (!t || !e) return [];
  const { rng } = ctx;
  const other = rng.pick(t.entries.filter((x) => !x.inline && x !== e).concat(e));
  const ifd = rng.pick(t.layout.ifds);
  const to = rng.pick([other.valuePos, ifd.pos, 0, t.layout.firstIfdPos, t.b.length - 1, t.b.length + 100, 0xffffffff, rng.int(t.b.length), e.valuePos + 1, e.valuePos - 1]);
  return [setOp(t, e.valueFieldPos, uint(t, Math.max(0, to)), `tiff-reoffset: tag ${e.tag} value ${e.valuePos} -> ${to}`)];
};

/** Unlink an IFD from the chain (the pointer to it now skips it); its bytes stay in the file. */
export const tiffUnlinkIfd: Mutator = (ctx) => {
  const t = prepare(ctx);
  if (!t) return [];
  const chain = t.layout.ifds.filter((i) => !i.sub);
  if (chain.length < 2) return [];
  // Label/macro are last in SVS files; unlinking those is what the anonymizers do.
  const victim = ctx.rng.chance(0.6) ? chain[chain.length - 1 - ctx.rng.int(Math.min(2, chain.length - 1))]! : ctx.rng.pick(chain.slice(1));
  return [setOp(t, victim.linkPos, uint(t, victim.next), `tiff-unlink: ifd at ${victim.pos} unlinked, bytes kept`)];
};

export const tiffNextPointer: Mutator = (ctx) => {
  const t = prepare(ctx);
  if (!t) return [];
  const { rng } = ctx;
  const ifd = rng.pick(t.layout.ifds);
  const to = rng.pick([0, ifd.pos, t.layout.ifds[0]!.pos, rng.pick(t.layout.ifds).pos, t.b.length, t.b.length - 2, rng.int(t.b.length), ifd.pos + 1]);
  return [setOp(t, ifd.nextPos, uint(t, to), `tiff-next: next of ifd ${ifd.pos} -> ${to}`)];
};

/**
 * `tiffset -s TAG value`: the new value is appended at the end of the file (word aligned) and the
 * entry repointed; the old bytes stay where they were. The new text is the old one with the
 * identifying strings taken out, as an operator anonymizing by hand would write it.
 */
export const tiffRewriteAtEnd: Mutator = (ctx) => {
  const t = prepare(ctx);
  const e = t && pickEntry(t, (x) => !x.inline && x.type === ASCII && x.byteLength < 1 << 20);
  if (!t || !e) return [];
  let text = Buffer.from(t.b.subarray(e.valuePos, e.valuePos + e.byteLength)).toString('latin1');
  for (const v of ctx.identifying) if (v.length > 0) text = text.split(v).join('');
  text = text.replace(/\0+$/, '') + '\0';
  const at = t.b.length + (t.b.length % 2);
  const pad = at - t.b.length;
  const fresh = latin1Bytes(text);
  return [
    { op: 'insert', part: ctx.part, at: t.b.length, hex: '00'.repeat(pad) + toHex(fresh), why: `tiffset: tag ${e.tag} rewritten at end` },
    setOp(t, e.pos + 4, uint(t, fresh.length, t.layout.big ? 8 : 4), 'tiffset: new count'),
    setOp(t, e.valueFieldPos, uint(t, at), 'tiffset: new offset, old value left in place'),
  ];
};

/** Move a value to the end of the file unchanged (the old copy stays): a pointer move. */
export const tiffMoveValue: Mutator = (ctx) => {
  const t = prepare(ctx);
  const e = t && pickEntry(t, (x) => !x.inline && x.valuePos + x.byteLength <= t!.b.length && x.byteLength < 1 << 20);
  if (!t || !e) return [];
  const at = t.b.length + (t.b.length % 2);
  return [
    { op: 'copy', part: ctx.part, from: e.valuePos, to: at, len: e.byteLength, why: `tiff-move: tag ${e.tag} value copied to end` },
    setOp(t, e.valueFieldPos, uint(t, at), 'tiff-move: entry repointed, old value left in place'),
  ];
};

/** Duplicate a value (identifying ones first) over another offset of the file. */
export const tiffDuplicateValue: Mutator = (ctx) => {
  const t = prepare(ctx);
  const e = t && pickEntry(t, (x) => !x.inline && x.byteLength > 0 && x.byteLength < 1 << 16);
  if (!t || !e) return [];
  const { rng } = ctx;
  const ifd = rng.pick(t.layout.ifds);
  const to = rng.pick([rng.int(t.b.length), ifd.nextPos + t.layout.offSize, t.b.length, Math.max(0, ifd.pos - e.byteLength - rng.int(64))]);
  return [{ op: 'copy', part: ctx.part, from: e.valuePos, to, len: e.byteLength, why: `tiff-duplicate: tag ${e.tag} value copied to ${to}` }];
};

/** Point one strip/tile of an image at another value's bytes (a strip inside a description). */
export const tiffOverlapStrip: Mutator = (ctx) => {
  const t = prepare(ctx);
  if (!t) return [];
  const { rng } = ctx;
  const offsets = t.entries.filter((x) => (x.tag === 273 || x.tag === 324) && x.count > 0);
  const target = pickEntry(t, (x) => !x.inline && x.tag !== 273 && x.tag !== 324);
  if (offsets.length === 0 || !target) return [];
  const o = rng.pick(offsets);
  const k = rng.int(Math.min(o.count, 64));
  const width = o.type === 3 ? 2 : o.type === 16 ? 8 : 4;
  const at = o.valuePos + k * width;
  return [setOp(t, at, uint(t, target.valuePos, width), `tiff-overlap: tag ${o.tag}[${k}] -> value of tag ${target.tag}`)];
};
