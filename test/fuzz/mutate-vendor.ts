/**
 * Mutations that reach the vendor structure the TIFF-entry and byte mutators cannot keep valid:
 * - tiff-text: a structured text (XML in ImageDescription/XMP, `Key=Value` lines) edited as text
 *   (mutate-text.ts), written back in place when it fits, else appended with the entry repointed
 *   (old bytes left behind, as tiffset does);
 * - ndpi-high: an NDPI's 32-bit high words (one per entry after each directory, and the high
 *   halves of the 8-byte first/next pointers) set to small and huge values;
 * - MIRAX: Slidedat.ini edited as text (same edits), Index.dat's 32-bit pointers and records set to
 *   boundary values, Data files cut or poked at record starts. Ops are plain byte edits, as always.
 */
import { toHex, type MutationOp } from './ops.ts';
import { encodeUint, walkTiff, type TiffEntry } from './tiff-walk.ts';
import { holdsIdentifying, latin1Bytes, type MutateContext, type Mutator } from './mutate-context.ts';
import { diffSpan, looksLikeXml, mutateKeyValues, mutateXml, type TextEdit } from './mutate-text.ts';

const NDPI_FORMAT_TAG = 65420;

function textOf(b: Uint8Array, e: TiffEntry): string {
  return Buffer.from(b.buffer, b.byteOffset + e.valuePos, Math.max(0, Math.min(e.byteLength, b.length - e.valuePos))).toString('latin1');
}

/**
 * A structured text: '<' or '=' in mostly printable bytes. Binary values (JPEGTables, ICC profiles)
 * are kept byte for byte by design; text planted in their tables is coding data, not metadata.
 */
function isText(s: string): boolean {
  if (!/[<=]/.test(s)) return false;
  let printable = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 0x20 && c < 0x7f) || c === 9 || c === 10 || c === 13 || c >= 0xa0 || c === 0) printable++;
  }
  return printable >= s.length * 0.95;
}

function editText(ctx: MutateContext, text: string): TextEdit | undefined {
  const xml = looksLikeXml(text);
  if (xml && ctx.rng.chance(0.85)) return mutateXml(ctx.rng, text, ctx.identifying);
  return mutateKeyValues(ctx.rng, text, ctx.identifying) ?? (xml ? mutateXml(ctx.rng, text, ctx.identifying) : undefined);
}

/** Edit a structured text value of a TIFF (XML or key=value) and write it back. */
export const tiffText: Mutator = (ctx) => {
  const b = ctx.parts[ctx.part]!;
  const layout = walkTiff(b);
  if (!layout) return [];
  const texts = layout.ifds.flatMap((i) => i.entries).filter((e) =>
    !e.inline && (e.type === 2 || e.type === 1 || e.type === 7) && e.byteLength > 8 && e.byteLength < 4 << 20 && e.valuePos + e.byteLength <= b.length && isText(textOf(b, e)));
  if (texts.length === 0) return [];
  const phi = texts.filter((e) => holdsIdentifying(b, e.valuePos, e.byteLength, ctx.identifying));
  const e = ctx.rng.pick(phi.length > 0 && ctx.rng.chance(0.6) ? phi : texts);
  const old = textOf(b, e);
  const nul = old.endsWith('\0') && e.type === 2;
  const edit = editText(ctx, nul ? old.replace(/\0+$/, '') : old);
  if (!edit) return [];
  const fresh = latin1Bytes(edit.text + (nul ? '\0' : ''));
  const why = `tiff-text: tag ${e.tag}: ${edit.why}`;
  if (fresh.length <= e.byteLength && ctx.rng.chance(0.5)) {
    // In place, padded with spaces before the terminator: the file layout stays the scanner's.
    const padded = latin1Bytes(edit.text + ' '.repeat(e.byteLength - fresh.length) + (nul ? '\0' : ''));
    const d = diffSpan(b.subarray(e.valuePos, e.valuePos + e.byteLength), padded);
    return [{ op: 'set', part: ctx.part, at: e.valuePos + d.at, hex: toHex(d.insert), why }];
  }
  const at = b.length + (b.length % 2);
  const size = layout.big ? 8 : 4;
  return [
    { op: 'insert', part: ctx.part, at: b.length, hex: '00'.repeat(at - b.length) + toHex(fresh), why },
    { op: 'set', part: ctx.part, at: e.pos + 4, hex: toHex(encodeUint(fresh.length, size, layout.little)), why: 'tiff-text: new count' },
    { op: 'set', part: ctx.part, at: e.valueFieldPos, hex: toHex(encodeUint(at, size, layout.little)), why: 'tiff-text: repointed, old value left in place' },
  ];
};

const HIGH_WORDS = [1, 2, 0xffffffff, 0x80000000, 0x7fffffff, 0x100];

/** NDPI: a high word (after a directory's next pointer, one per entry) or a pointer's high half. */
export const ndpiHighWord: Mutator = (ctx) => {
  const b = ctx.parts[ctx.part]!;
  const layout = walkTiff(b);
  if (!layout || layout.big || !layout.little) return [];
  const ifds = layout.ifds.filter((i) => !i.sub && i.entries.some((e) => e.tag === NDPI_FORMAT_TAG));
  if (ifds.length === 0) return [];
  const { rng } = ctx;
  const ifd = rng.pick(ifds);
  const to = rng.pick(HIGH_WORDS);
  const hex = toHex(encodeUint(to, 4, true));
  if (rng.chance(0.2)) {
    // High half of the first-IFD pointer (bytes 8–11) or of this directory's next pointer.
    const at = rng.chance(0.5) ? 8 : ifd.nextPos + 4;
    return [{ op: 'set', part: ctx.part, at, hex, why: `ndpi-high: pointer high half at ${at} -> ${to}` }];
  }
  const k = rng.int(ifd.entries.length);
  const at = ifd.nextPos + 8 + 4 * k;
  if (at + 4 > b.length) return [];
  return [{ op: 'set', part: ctx.part, at, hex, why: `ndpi-high: ifd ${ifd.pos} tag ${ifd.entries[k]!.tag} high word -> ${to}` }];
};

/** The part a MIRAX mutation works on: Slidedat.ini and Index.dat are where the structure is. */
export function pickMiraxPart(ctx: Pick<MutateContext, 'rng'>, names: readonly string[]): number {
  const base = (n: string) => n.split('/').pop()!.toLowerCase();
  const by = (f: (n: string) => boolean) => names.map((n, i) => [n, i] as const).filter(([n]) => f(base(n))).map(([, i]) => i);
  const ini = by((n) => n === 'slidedat.ini');
  const index = by((n) => n === 'index.dat');
  const data = by((n) => /^data\d+\.dat$/.test(n));
  const mrxs = by((n) => n.endsWith('.mrxs'));
  const groups = ([[ini, 4], [index, 4], [data, 2], [mrxs, 1]] as const).filter(([g]) => g.length > 0);
  if (groups.length === 0) return ctx.rng.int(names.length);
  return ctx.rng.pick(ctx.rng.weighted(groups));
}

/** Slidedat.ini edited as key = value text. */
export const miraxIni: Mutator = (ctx) => {
  const b = ctx.parts[ctx.part]!;
  const text = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
  if (!/^\[/m.test(text)) return [];
  const edit = mutateKeyValues(ctx.rng, text, ctx.identifying);
  if (!edit) return [];
  const d = diffSpan(b, latin1Bytes(edit.text));
  const why = `mirax-ini: ${edit.why}`;
  const ops: MutationOp[] = [];
  if (d.deleteLen > 0) ops.push({ op: 'delete', part: ctx.part, at: d.at, len: d.deleteLen, why });
  if (d.insert.length > 0) ops.push({ op: 'insert', part: ctx.part, at: d.at, hex: toHex(d.insert), why });
  return ops;
};

const INT32S = [0, 1, -1, 0x7fffffff, -0x80000000, 2, 4, 16, 1 << 20, 0x10000];

/**
 * Index.dat: after the version and slide id (37 bytes), 32-bit little-endian pointers and records
 * (image, offset, length, file number; and page headers). Any aligned word may be one of them.
 */
export const miraxIndex: Mutator = (ctx) => {
  const b = ctx.parts[ctx.part]!;
  const HEADER = 37;
  if (b.length < HEADER + 4 || !/^\d\d\.\d\d/.test(Buffer.from(b.subarray(0, 5)).toString('latin1'))) return [];
  const { rng } = ctx;
  const words = Math.floor((b.length - HEADER) / 4);
  // The first words are the pointers to the hierarchical and non-hierarchical roots: hit them often.
  const k = rng.chance(0.3) ? rng.int(Math.min(words, 8)) : rng.int(words);
  const at = HEADER + 4 * k;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const cur = dv.getInt32(at, true);
  const to = rng.pick([...INT32S, cur + 1, cur - 1, cur + 4, cur - 4, cur * 2, b.length, b.length - 4, HEADER, rng.int(b.length)]);
  const v = new Uint8Array(4);
  new DataView(v.buffer).setInt32(0, to | 0, true);
  return [{ op: 'set', part: ctx.part, at, hex: toHex(v), why: `mirax-index: word ${k} ${cur} -> ${to | 0}` }];
};

/** Data files: truncated (a record cut), or the header (version + slide id + file number) altered. */
export const miraxData: Mutator = (ctx) => {
  const b = ctx.parts[ctx.part]!;
  const { rng } = ctx;
  if (rng.chance(0.5)) {
    const size = rng.pick([0, 1, 37, 296, Math.floor(b.length / 2), Math.max(0, b.length - 1), rng.int(b.length + 1)]);
    return [{ op: 'truncate', part: ctx.part, size, why: `mirax-data: cut to ${size}` }];
  }
  const at = rng.pick([0, 5, 37, 41, rng.int(Math.min(b.length, 300))]);
  return [{ op: 'set', part: ctx.part, at, hex: toHex(rng.bytes(rng.pick([1, 2, 4]))), why: `mirax-data: header bytes at ${at}` }];
};

/** Dispatch on the chosen MIRAX part's name. */
export function miraxMutator(name: string): Mutator | undefined {
  const n = name.split('/').pop()!.toLowerCase();
  if (n === 'slidedat.ini') return miraxIni;
  if (n === 'index.dat') return miraxIndex;
  if (/^data\d+\.dat$/.test(n)) return miraxData;
  return undefined;
}
