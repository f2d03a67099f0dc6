/**
 * DICOM-aware mutations, recorded as plain byte edits: an element renumbered (to an unknown,
 * retired, private, group-0000 or group-0002 tag), its VR or length changed, an identifying element
 * copied under another tag inside a sequence item (enclosing lengths fixed so it still parses),
 * identifying bytes appended after Pixel Data, truncation at an element boundary.
 */
import { toHex, type MutationOp } from './ops.ts';
import { isLongVr, walkDicom, type DicomElement, type DicomLayout } from './dicom-walk.ts';
import { holdsIdentifying, latin1Bytes, type MutateContext, type Mutator } from './mutate-context.ts';

/** [group, element, what]: where a renumbered element lands. */
const TAG_TARGETS: [number, number, string][] = [
  [0x0009, 0x1001, 'private, no creator'],
  [0x0029, 0x1010, 'private, no creator'],
  [0x3021, 0x1004, 'GOOGLE private, no creator'],
  [0x0011, 0x0010, 'private creator slot'],
  [0x0008, 0xeeee, 'unknown standard'],
  [0x0010, 0x9999, 'unknown standard, patient group'],
  [0x0040, 0xa999, 'unknown standard, SR group'],
  [0x0010, 0x1000, 'retired (Other Patient IDs)'],
  [0x0008, 0x0010, 'retired (Recognition Code)'],
  [0x0008, 0x1000, 'retired (Network ID)'],
  [0x0000, 0x0902, 'group 0000 (Error Comment)'],
  [0x0000, 0x5110, 'group 0000 (retired Message Set ID)'],
  [0x0002, 0x0100, 'group 0002 inside dataset'],
  [0x0002, 0x0016, 'group 0002 inside dataset (Source AE Title)'],
  [0xfffc, 0xfffc, 'Data Set Trailing Padding'],
  [0x0018, 0x1000, 'Device Serial Number (kept?)'],
  [0x0008, 0x103e, 'Series Description'],
];
const VR_TARGETS = ['UN', 'OB', 'UT', 'LT', 'SQ', 'LO', 'ST', 'CS', 'XX', 'UI', 'PN', 'DA', 'OW', 'UC'];

interface Ctx {
  ctx: MutateContext;
  b: Uint8Array;
  layout: DicomLayout;
  /** Data elements of the dataset (not meta, not items). */
  elements: DicomElement[];
}

function prepare(ctx: MutateContext): Ctx | undefined {
  const b = ctx.parts[ctx.part]!;
  const layout = walkDicom(b);
  if (!layout) return undefined;
  const elements = layout.elements.filter((e) => !e.inMeta && !e.isItem);
  if (elements.length === 0) return undefined;
  return { ctx, b, layout, elements };
}

/** An element, preferring those holding an identifying value. */
function pickElement(t: Ctx, filter: (e: DicomElement) => boolean = () => true): DicomElement | undefined {
  const { rng, identifying } = t.ctx;
  const all = t.elements.filter(filter);
  if (all.length === 0) return undefined;
  if (rng.chance(0.7)) {
    const phi = all.filter((e) => e.length !== 0xffffffff && holdsIdentifying(t.b, e.valuePos, e.length, identifying));
    if (phi.length > 0) return rng.pick(phi);
  }
  return rng.pick(all);
}

function u16(t: Ctx, v: number): string {
  const b = new Uint8Array(2);
  new DataView(b.buffer).setUint16(0, v & 0xffff, t.layout.little);
  return toHex(b);
}

function u32(t: Ctx, v: number): string {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, t.layout.little);
  return toHex(b);
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}

function set(t: Ctx, at: number, hex: string, why: string): MutationOp {
  return { op: 'set', part: t.ctx.part, at, hex, why };
}

/** Fix every defined length around an insertion of `delta` bytes inside `e`'s containers. */
function growContainers(t: Ctx, e: Pick<DicomElement, 'containers'>, delta: number): MutationOp[] {
  return e.containers.map((c) => set(t, c.lengthPos, c.lengthSize === 2 ? u16(t, c.length + delta) : u32(t, c.length + delta), `dicom: enclosing length +${delta}`));
}

export const dicomRenumber: Mutator = (ctx) => {
  const t = prepare(ctx);
  const e = t && pickElement(t, (x) => !(x.group === 0x7fe0 && x.element === 0x0010));
  if (!t || !e) return [];
  const [g, el, what] = ctx.rng.chance(0.85) ? ctx.rng.pick(TAG_TARGETS) : [ctx.rng.int(0x10000), ctx.rng.int(0x10000), 'random'];
  return [set(t, e.pos, u16(t, g) + u16(t, el), `dicom-renumber: (${hex4(e.group)},${hex4(e.element)}) -> (${hex4(g)},${hex4(el)}) ${what}`)];
};

export const dicomRevr: Mutator = (ctx) => {
  const t = prepare(ctx);
  if (!t || !t.layout.explicit) return [];
  const e = pickElement(t, (x) => x.vr !== undefined && x.length !== 0xffffffff);
  if (!e || !e.vr) return [];
  const to = ctx.rng.pick(VR_TARGETS);
  const why = `dicom-revr: (${hex4(e.group)},${hex4(e.element)}) ${e.vr} -> ${to}`;
  // Half the time only the two letters change (the header then misparses); half the time the
  // header is rewritten in the long form so the element still parses, with its lengths fixed.
  if (ctx.rng.chance(0.5) || isLongVr(e.vr) || !isLongVr(to)) return [set(t, e.pos + 4, toHex(latin1Bytes(to)), why)];
  return [
    set(t, e.pos + 4, toHex(latin1Bytes(to)), `${why} (long form)`),
    { op: 'delete', part: ctx.part, at: e.pos + 6, len: 2, why: 'dicom-revr: drop the 2-byte length' },
    { op: 'insert', part: ctx.part, at: e.pos + 6, hex: '0000' + u32(t, e.length), why: 'dicom-revr: reserved + 4-byte length' },
    ...growContainers(t, e, 4),
  ];
};

export const dicomRelength: Mutator = (ctx) => {
  const t = prepare(ctx);
  const e = t && pickElement(t);
  if (!t || !e) return [];
  const { rng } = ctx;
  const max = e.lengthSize === 2 ? 0xffff : 0xffffffff;
  const to = Math.min(max, rng.pick([0, 1, e.length - 1, e.length + 1, e.length + 2, e.length * 2, max, rng.int(max), e.length + 8]) >>> 0);
  return [set(t, e.lengthPos, e.lengthSize === 2 ? u16(t, to) : u32(t, to), `dicom-relength: (${hex4(e.group)},${hex4(e.element)}) ${e.length} -> ${to}`)];
};

/**
 * Copy an identifying element under another tag into a sequence item (or at top level), fixing the
 * lengths around it so the file still parses: an unknown element inside an item, a private element
 * without creator, a group-0000 element in the dataset.
 */
export const dicomInsertElement: Mutator = (ctx) => {
  const t = prepare(ctx);
  if (!t) return [];
  const { rng } = ctx;
  const src = pickElement(t, (x) => x.vr !== 'SQ' && x.length !== 0xffffffff && x.length < 4096 && !(x.group === 0x7fe0));
  if (!src) return [];
  const value = t.b.slice(src.valuePos, src.valuePos + src.length);
  const [g, el, what] = rng.pick(TAG_TARGETS);
  let header: string;
  if (!t.layout.explicit) header = u16(t, g) + u16(t, el) + u32(t, value.length);
  else {
    const vr = rng.pick(['LO', 'UT', 'UN', 'LT']);
    header = u16(t, g) + u16(t, el) + toHex(latin1Bytes(vr)) + (isLongVr(vr) ? '0000' + u32(t, value.length) : u16(t, value.length));
    if (!isLongVr(vr) && value.length > 0xffff) return [];
  }
  const bytes = header + toHex(value);
  const delta = bytes.length / 2;
  // Insert before a random element: inside an item when that element is nested, else top level.
  const before = rng.chance(0.6) ? rng.pick(t.elements.filter((x) => x.depth > 0).concat(t.elements[0]!)) : rng.pick(t.elements);
  return [
    { op: 'insert', part: ctx.part, at: before.pos, hex: bytes, why: `dicom-insert: (${hex4(src.group)},${hex4(src.element)}) value as (${hex4(g)},${hex4(el)}) ${what} at depth ${before.depth}` },
    ...growContainers(t, before, delta),
  ];
};

/** Identifying bytes after Pixel Data: trailing padding or an element, as some writers leave. */
export const dicomTrailing: Mutator = (ctx) => {
  const t = prepare(ctx);
  if (!t || t.layout.pixelDataPos === undefined) return [];
  const src = pickElement(t, (x) => x.vr !== 'SQ' && x.length !== 0xffffffff && x.length < 4096 && x.group !== 0x7fe0);
  if (!src) return [];
  const value = t.b.slice(src.valuePos, src.valuePos + src.length);
  const [g, el] = ctx.rng.pick<[number, number]>([[0xfffc, 0xfffc], [0x0009, 0x1001], [0x0010, 0x0010], [0x0040, 0xa160]]);
  const header = t.layout.explicit ? u16(t, g) + u16(t, el) + toHex(latin1Bytes(g === 0xfffc ? 'OB' : 'UT')) + '0000' + u32(t, value.length) : u16(t, g) + u16(t, el) + u32(t, value.length);
  return [{ op: 'insert', part: ctx.part, at: t.b.length, hex: header + toHex(value), why: `dicom-trailing: (${hex4(src.group)},${hex4(src.element)}) value as (${hex4(g)},${hex4(el)}) after Pixel Data` }];
};

export const dicomTruncateAtElement: Mutator = (ctx) => {
  const t = prepare(ctx);
  const e = t && ctx.rng.pick(t.elements);
  if (!t || !e) return [];
  const at = e.pos + ctx.rng.pick([0, 2, 4, e.headerLen, e.headerLen + 1]);
  return [{ op: 'truncate', part: ctx.part, size: at, why: `dicom-truncate at (${hex4(e.group)},${hex4(e.element)})+${at - e.pos}` }];
};

export const dicomMetaLength: Mutator = (ctx) => {
  const t = prepare(ctx);
  const gl = t?.layout.elements.find((e) => e.inMeta && e.element === 0x0000);
  if (!t || !gl) return [];
  const to = ctx.rng.pick([0, 1, 0xffffffff, ctx.rng.int(1 << 16)]);
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, to >>> 0, true);
  return [set(t, gl.valuePos, toHex(b), `dicom-meta-length -> ${to}`)];
};
