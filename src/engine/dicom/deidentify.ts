import type { DicomDataset, DicomElement } from './dataset.ts';
import { isTextVr, setElement, textBytes, textElement, textOf } from './dataset.ts';
import type { Action, ProfileOptions } from './deid-profile.ts';
import { decide, forcedRemoval, isOpaque, opaqueEmptyVr, unvouchedKind, userRemovalAction } from './deid-profile.ts';
import { fieldId } from './fields.ts';
import { WSI_INTEGRITY_KEEP } from './tables/wsi-iod.ts';
import type { UidRemapper } from './uid-remap.ts';

/** Shared state of one plan: every instance of the slide goes through the same context. */
export interface DeidContext {
  selected: Set<string>;
  options: ProfileOptions;
  remapper: UidRemapper;
  /** Field ids actually removed/changed somewhere (descendants of a removed sequence included). */
  removed: Set<string>;
  /**
   * The sweep list: every identifying value read from the input that the plan removed, emptied,
   * dummied or remapped, and every value removed at the user's wish, keyed by their text.
   */
  sweep: Map<string, Uint8Array>;
  /** Elements kept under the Clean option, cleaned once every removed value is known. */
  toClean: { el: DicomElement; id: string }[];
  /** Dummy texts written by this plan (constants and keyed IDs: never identifying). */
  dummies: Set<string>;
  /** Elements this plan wrote (dummies, remapped UIDs): their values are its own, not the input's. */
  generated: WeakSet<DicomElement>;
}

export const MIN_SWEEP = 4;
const latin1 = new TextDecoder('latin1');

function addSweep(ctx: DeidContext, text: string): void {
  const add = (s: string): void => {
    const t = s.replace(/[\0 ]+$/, '');
    if (t.length < MIN_SWEEP) return;
    if (!ctx.sweep.has(t)) ctx.sweep.set(t, textBytes(t));
  };
  add(text);
  if (text.includes('\\')) for (const part of text.split('\\')) add(part.trim());
}

function sweepValue(ctx: DeidContext, el: DicomElement): void {
  if (!el.value || el.value.length === 0) return;
  // An opaque value (a sequence stored as UT or OW…) is bytes whatever its VR says: its text is in
  // printable runs, like a private blob's, not in the whole value.
  if (isTextVr(el.vr) && !isOpaque(el.tag, el.vr)) {
    addSweep(ctx, textOf(el) ?? '');
  } else if ((el.vr === 'UN' || el.vr === 'OB' || isOpaque(el.tag, el.vr)) && el.value.length <= 65536) {
    // Private blobs often hold text (vendor IDs, names, nested items): sweep their printable runs.
    for (const run of latin1.decode(el.value).match(/[\x20-\x7e]{6,}/g) ?? []) addSweep(ctx, run.trim());
  }
}

/**
 * Sweep what a removed/changed element held, and record every field inside it as removed. The
 * element itself was chosen (selected, or forced); inside a sequence that goes as a whole, each
 * element is swept when it is identifying by its own rule or was itself selected — an element its
 * own rule keeps (a Code Meaning, the Manufacturer of contributing equipment) is not identifying
 * and only goes with its container.
 */
function sweepRemoved(ctx: DeidContext, el: DicomElement, parents: string[]): void {
  if (el.vr !== 'SQ') {
    sweepValue(ctx, el);
    return;
  }
  const inner = [...parents, el.tag];
  for (const item of el.items ?? []) {
    for (const child of item) {
      const id = fieldId(inner, child.tag);
      ctx.removed.add(id);
      const d = decide(inner, child.tag, child.vr, ctx.options, child.vr === 'UI' ? textOf(child) : undefined);
      if (child.vr === 'SQ') sweepRemoved(ctx, child, inner);
      else if (d.cls === 'phi' || ctx.selected.has(id)) sweepValue(ctx, child);
    }
  }
}

const STANDARD_UID = '1.2.840.10008.';

async function remapValue(ctx: DeidContext, el: DicomElement): Promise<DicomElement> {
  const parts = (textOf(el) ?? '').split('\\');
  const mapped = await Promise.all(parts.map((p) => (p.trim() === '' || p.trim().startsWith(STANDARD_UID) ? p.trim() : ctx.remapper.uid(p.trim()))));
  return generated(ctx, textElement(el.tag, el.vr, mapped.join('\\')));
}

function generated(ctx: DeidContext, el: DicomElement): DicomElement {
  ctx.generated.add(el);
  return el;
}

/** Constant dummies by VR, with a second choice for the (rare) input that already holds the first. */
const CONSTANT_DUMMIES: Record<string, [string, string]> = {
  DA: ['19000101', '19000102'],
  TM: ['000000', '000001'],
  DT: ['19000101', '19000102'], // date precision is a valid DT and contains no time that could match a removed one
  PN: ['ANONYMIZED', 'ANONYMOUS'],
  AS: ['000D', '001D'],
  IS: ['0', '1'],
  DS: ['0', '1'],
};

const UR_DUMMY = 'urn:deidentified';

async function dummyValue(ctx: DeidContext, el: DicomElement): Promise<DicomElement> {
  const original = textOf(el) ?? '';
  const constant = CONSTANT_DUMMIES[el.vr];
  if (constant) {
    const dummy = original === constant[0] ? constant[1] : constant[0];
    ctx.dummies.add(dummy);
    return generated(ctx, textElement(el.tag, el.vr, dummy));
  }
  switch (el.vr) {
    case 'UI':
      return remapValue(ctx, el);
    case 'UR':
      ctx.dummies.add(UR_DUMMY);
      return generated(ctx, textElement(el.tag, el.vr, UR_DUMMY));
    default:
      if (!isTextVr(el.vr)) return generated(ctx, { tag: el.tag, vr: el.vr, value: new Uint8Array(el.value?.length ?? 0) });
      if (original === '') return generated(ctx, textElement(el.tag, el.vr, ''));
      const id = await ctx.remapper.dummyId(original);
      ctx.dummies.add(id);
      return generated(ctx, textElement(el.tag, el.vr, id));
  }
}

async function applyAction(ctx: DeidContext, action: Action, el: DicomElement, parents: string[]): Promise<DicomElement | undefined> {
  const id = fieldId(parents, el.tag);
  switch (action) {
    case 'remove':
    case 'empty':
    case 'dummy':
    case 'remap':
      sweepRemoved(ctx, el, parents);
      ctx.removed.add(id);
      if (action === 'remove') return undefined;
      if (action === 'empty') {
        // An opaque element is emptied in the dictionary's VR: the file's VR was the problem.
        const vr = isOpaque(el.tag, el.vr) ? opaqueEmptyVr(el.tag) : el.vr;
        return generated(ctx, vr === 'SQ' ? { tag: el.tag, vr: 'SQ', items: [] } : { tag: el.tag, vr, value: new Uint8Array(0) });
      }
      return action === 'dummy' ? dummyValue(ctx, el) : remapValue(ctx, el);
    case 'clean': {
      const copy: DicomElement = { tag: el.tag, vr: el.vr, value: el.value };
      ctx.toClean.push({ el: copy, id });
      return copy;
    }
    default:
      return el;
  }
}

/**
 * Apply the profile to one data set for the selected field ids; returns a new data set (the input
 * is not modified). Every sequence that stays is descended, whatever its kind (a private sequence
 * the user keeps too), so each element inside is handled by its own field: nothing is carried
 * through unjudged. Command (0000) and file meta (0002) elements inside the data set, and opaque
 * elements (a VR the dictionary does not allow), always go.
 */
export async function deidentifyDataset(ctx: DeidContext, ds: DicomDataset, parents: string[] = []): Promise<DicomDataset> {
  const out: DicomDataset = [];
  for (const el of ds) {
    const id = fieldId(parents, el.tag);
    const d = decide(parents, el.tag, el.vr, ctx.options, el.vr === 'UI' ? textOf(el) : undefined);
    const kind = unvouchedKind(parents, el.tag);
    // Opaque elements go whatever the user chose, like command and file meta elements: nobody,
    // the user included, can tell what their bytes hold.
    const selected = kind === 'command' || kind === 'meta' || isOpaque(el.tag, el.vr) || ctx.selected.has(id);
    if (el.vr === 'SQ') {
      const action = selected ? userRemovalAction(d) : 'keep';
      if (action === 'remove' || action === 'empty') {
        const r = await applyAction(ctx, action, el, parents);
        if (r) out.push(r);
        continue;
      }
      const items: DicomDataset[] = [];
      for (const item of el.items ?? []) items.push(await deidentifyDataset(ctx, item, [...parents, el.tag]));
      out.push({ tag: el.tag, vr: 'SQ', items });
      continue;
    }
    if (!selected) {
      out.push(el);
      continue;
    }
    const r = await applyAction(ctx, userRemovalAction(d), el, parents);
    if (r) out.push(r);
  }
  return out;
}

/**
 * Clean Descriptors: the descriptive text is kept, but any removed value found in it (a name, an
 * accession number…) is blanked out. Run after every instance has been de-identified.
 */
export function cleanDescriptors(ctx: DeidContext): void {
  const needles = [...ctx.sweep.keys()].sort((a, b) => b.length - a.length);
  for (const { el, id } of ctx.toClean) {
    const text = textOf(el) ?? '';
    let cleaned = text;
    for (const n of needles) if (cleaned.includes(n)) cleaned = cleaned.split(n).join('*'.repeat(Math.min(n.length, 8)));
    if (cleaned !== text) {
      el.value = textBytes(cleaned);
      ctx.removed.add(id);
    }
  }
}

/** File meta elements that describe the file, not the site: rebuilt by the writer, nothing to sweep. */
const STRUCTURAL_META = new Set(['00020000', '00020001', '00020002', '00020010', '00020012', '00020013']);

/**
 * The input's file meta is never copied (the writer rebuilds it), but what it held about the site —
 * source/sending/receiving AE titles, private information — is identifying text read from the
 * input, so it joins the sweep list.
 */
export function sweepFileMeta(ctx: DeidContext, meta: DicomDataset): void {
  for (const el of meta) if (!STRUCTURAL_META.has(el.tag)) sweepValue(ctx, el);
}

/**
 * A kept value must not hold removed text: the sweep treats such a hit as a leak, never as an
 * exemption. So before the plan is final, every kept text value that contains a swept value is
 * itself removed, emptied or dummied — the strongest change the IOD allows (e.g. an in-house
 * Manufacturer named like the removed Institution Name is dummied). Values the plan wrote are its
 * own and skipped. What must stay as it is (integrity attributes, class UIDs) is left for the sweep
 * to refuse. Repeats until nothing changes: a value removed here joins the sweep list too.
 */
export async function removeKeptCarriers(ctx: DeidContext, outputs: DicomDataset[]): Promise<void> {
  for (let round = 0; round < 16; round++) {
    const needles = [...ctx.sweep.keys()];
    if (needles.length === 0) return;
    const shortest = Math.min(...needles.map((n) => n.length));
    // One alternation instead of a loop of includes(): per-frame groups hold ~10^5 values.
    const anyNeedle = new RegExp(needles.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'));
    // Find the carriers synchronously (no await per element), then change them.
    const found: { ds: DicomDataset; el: DicomElement; parents: string[]; action: Action }[] = [];
    const visit = (ds: DicomDataset, parents: string[]): void => {
      for (const el of ds) {
        if (ctx.generated.has(el)) continue;
        if (el.vr === 'SQ') {
          if (el.items?.length) {
            const inner = [...parents, el.tag];
            for (const item of el.items) visit(item, inner);
          }
          continue;
        }
        // Cheap tests first (per-frame groups hold ~10^5 elements): integrity values cannot change
        // anyway (the sweep judges them), and a value shorter than every needle cannot hold one.
        if (!isTextVr(el.vr) || (el.value?.length ?? 0) < shortest || WSI_INTEGRITY_KEEP.has(el.tag)) continue;
        const text = shortText(el.value!);
        if (!anyNeedle.test(text)) continue;
        const action = forcedRemoval(parents, el.tag, el.vr, el.vr === 'UI' ? text : undefined);
        if (action) found.push({ ds, el, parents, action });
      }
    };
    for (const ds of outputs) visit(ds, []);
    for (const { ds, el, parents, action } of found) {
      const r = await applyAction(ctx, action, el, parents);
      const i = ds.indexOf(el);
      if (r) ds[i] = r;
      else ds.splice(i, 1);
    }
    const changed = found.length > 0;
    if (!changed) return;
  }
}

/** Latin-1 text of a value (padding included: needles never end in padding); no decoder call for short values. */
function shortText(v: Uint8Array): string {
  if (v.length > 256) return latin1.decode(v);
  let s = '';
  for (let i = 0; i < v.length; i++) s += String.fromCharCode(v[i]!);
  return s;
}

/** The plan's sweep list: every value gathered, none exempted by value (see removeKeptCarriers). */
export function sweepList(ctx: DeidContext): Uint8Array[] {
  return [...ctx.sweep.values()];
}

/** The de-identification record's codes (CID 7050) for the options used. */
function methodCodes(options: ProfileOptions): [string, string][] {
  const codes: [string, string][] = [['113100', 'Basic Application Confidentiality Profile']];
  if (options.retainDeviceIdentity) codes.push(['113109', 'Retain Device Identity Option']);
  if (options.cleanDescriptors) codes.push(['113105', 'Clean Descriptors Option']);
  return codes;
}

/** The De-identification Method text written for these options (the output check compares it). */
export function deidentificationMethodText(options: ProfileOptions): string {
  return ['PS3.15 Basic Profile', ...(options.retainDeviceIdentity ? ['Retain Device Identity'] : []), ...(options.cleanDescriptors ? ['Clean Descriptors'] : [])].join('\\');
}

/** Every text the record writes: the plan's own constants (a chance sweep match inside is not a leak). */
export function deidentificationTexts(options: ProfileOptions): string[] {
  return [deidentificationMethodText(options), ...methodCodes(options).flatMap(([value, meaning]) => [value, meaning])];
}

/** PatientIdentityRemoved, DeidentificationMethod and its code sequence (PS3.15 E.1.1, CID 7050). */
export function recordDeidentification(ds: DicomDataset, options: ProfileOptions): void {
  setElement(ds, textElement('00120062', 'CS', 'YES'));
  setElement(ds, textElement('00120063', 'LO', deidentificationMethodText(options)));
  setElement(ds, {
    tag: '00120064',
    vr: 'SQ',
    items: methodCodes(options).map(([value, meaning]) => [textElement('00080100', 'SH', value), textElement('00080102', 'SH', 'DCM'), textElement('00080104', 'LO', meaning)]),
  });
}
