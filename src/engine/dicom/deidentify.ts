import type { DicomDataset, DicomElement } from './dataset.ts';
import { isTextVr, setElement, textBytes, textElement, textOf } from './dataset.ts';
import type { Action, ProfileOptions } from './deid-profile.ts';
import { decide, userRemovalAction } from './deid-profile.ts';
import { fieldId } from './fields.ts';
import type { UidRemapper } from './uid-remap.ts';

/** Shared state of one plan: every instance of the slide goes through the same context. */
export interface DeidContext {
  selected: Set<string>;
  options: ProfileOptions;
  remapper: UidRemapper;
  /** Field ids actually removed/changed somewhere. */
  removed: Set<string>;
  /** Removed values (trimmed, as stored), keyed by their text for de-duplication. */
  sweep: Map<string, Uint8Array>;
  /** Those of the sweep values that came from an identifying ('phi') attribute. */
  identifying: Set<string>;
  /** Elements kept under the Clean option, cleaned once every removed value is known. */
  toClean: { el: DicomElement; id: string }[];
  /** Dummy texts written by this plan (constants and keyed IDs: never identifying). */
  dummies: Set<string>;
}

const MIN_SWEEP = 4;
const latin1 = new TextDecoder('latin1');

function addSweep(ctx: DeidContext, text: string, identifying: boolean): void {
  const add = (s: string): void => {
    const t = s.replace(/[\0 ]+$/, '');
    if (t.length < MIN_SWEEP) return;
    if (!ctx.sweep.has(t)) ctx.sweep.set(t, textBytes(t));
    if (identifying) ctx.identifying.add(t);
  };
  add(text);
  if (text.includes('\\')) for (const part of text.split('\\')) add(part.trim());
}

function sweepElement(ctx: DeidContext, el: DicomElement, identifying: boolean): void {
  if (el.vr === 'SQ') {
    for (const item of el.items ?? []) for (const child of item) sweepElement(ctx, child, identifying);
    return;
  }
  if (!el.value || el.value.length === 0) return;
  if (isTextVr(el.vr)) {
    addSweep(ctx, textOf(el) ?? '', identifying);
  } else if ((el.vr === 'UN' || el.vr === 'OB') && el.value.length <= 65536) {
    // Private blobs often hold text (vendor IDs, names, nested items): sweep their printable runs.
    for (const run of latin1.decode(el.value).match(/[\x20-\x7e]{6,}/g) ?? []) addSweep(ctx, run.trim(), identifying);
  }
}

const STANDARD_UID = '1.2.840.10008.';

async function remapValue(ctx: DeidContext, el: DicomElement): Promise<DicomElement> {
  const parts = (textOf(el) ?? '').split('\\');
  const mapped = await Promise.all(parts.map((p) => (p.trim() === '' || p.trim().startsWith(STANDARD_UID) ? p.trim() : ctx.remapper.uid(p.trim()))));
  return textElement(el.tag, el.vr, mapped.join('\\'));
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

async function dummyValue(ctx: DeidContext, el: DicomElement): Promise<DicomElement> {
  const original = textOf(el) ?? '';
  const constant = CONSTANT_DUMMIES[el.vr];
  if (constant) {
    const dummy = original === constant[0] ? constant[1] : constant[0];
    ctx.dummies.add(dummy);
    return textElement(el.tag, el.vr, dummy);
  }
  switch (el.vr) {
    case 'UI':
      return remapValue(ctx, el);
    case 'UR':
      return textElement(el.tag, el.vr, 'urn:deidentified');
    default:
      if (!isTextVr(el.vr)) return { tag: el.tag, vr: el.vr, value: new Uint8Array(el.value?.length ?? 0) };
      if (original === '') return textElement(el.tag, el.vr, '');
      const id = await ctx.remapper.dummyId(original);
      ctx.dummies.add(id);
      return textElement(el.tag, el.vr, id);
  }
}

async function applyAction(ctx: DeidContext, action: Action, el: DicomElement, id: string, identifying: boolean): Promise<DicomElement | undefined> {
  switch (action) {
    case 'remove':
      sweepElement(ctx, el, identifying);
      ctx.removed.add(id);
      return undefined;
    case 'empty':
      sweepElement(ctx, el, identifying);
      ctx.removed.add(id);
      return el.vr === 'SQ' ? { tag: el.tag, vr: 'SQ', items: [] } : { tag: el.tag, vr: el.vr, value: new Uint8Array(0) };
    case 'dummy':
      sweepElement(ctx, el, identifying);
      ctx.removed.add(id);
      return dummyValue(ctx, el);
    case 'remap':
      sweepElement(ctx, el, identifying);
      ctx.removed.add(id);
      return remapValue(ctx, el);
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
 * is not modified). Sequences not selected as a whole are descended so that selected attributes
 * inside them (specimen identifiers, content items, issuers, referenced UIDs) are handled.
 */
export async function deidentifyDataset(ctx: DeidContext, ds: DicomDataset, parents: string[] = []): Promise<DicomDataset> {
  const out: DicomDataset = [];
  for (const el of ds) {
    const id = fieldId(parents, el.tag);
    const d = decide(parents, el.tag, el.vr, ctx.options, el.vr === 'UI' ? textOf(el) : undefined);
    const selected = ctx.selected.has(id);
    if (el.vr === 'SQ') {
      const action = selected ? userRemovalAction(d) : 'keep';
      if (action === 'remove' || action === 'empty') {
        const r = await applyAction(ctx, action, el, id, d.cls === 'phi');
        if (r) out.push(r);
        continue;
      }
      if (d.reason.startsWith('private')) {
        out.push(el);
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
    const r = await applyAction(ctx, userRemovalAction(d), el, id, d.cls === 'phi');
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

/**
 * The sweep list, minus values the output deliberately holds: a removed value that is exactly the
 * value of an attribute the profile keeps (e.g. a contributing institution named like the
 * Manufacturer), or that is part of a dummy this plan wrote (a removed time '101000' inside a
 * dummy date). A value removed only at the user's wish from a non-identifying attribute is also
 * tolerated inside a kept value (a contributing equipment's model name that is part of the
 * Type 1 ManufacturerModelName cannot be gone). Anything else that survives is a leak and fails
 * the sweep.
 */
export function finalSweepValues(ctx: DeidContext, outputs: DicomDataset[]): Uint8Array[] {
  const kept = new Set<string>();
  const visit = (ds: DicomDataset): void => {
    for (const el of ds) {
      if (el.vr === 'SQ') for (const item of el.items ?? []) visit(item);
      else if (isTextVr(el.vr)) {
        const t = textOf(el) ?? '';
        kept.add(t);
        for (const part of t.split('\\')) kept.add(part.trim());
      }
    }
  };
  for (const ds of outputs) visit(ds);
  const dummies = [...ctx.dummies];
  const keptTexts = [...kept];
  return [...ctx.sweep]
    .filter(([text]) => !kept.has(text) && !dummies.some((d) => d.includes(text)))
    .filter(([text]) => ctx.identifying.has(text) || !keptTexts.some((k) => k.includes(text)))
    .map(([, bytes]) => bytes);
}

/** PatientIdentityRemoved, DeidentificationMethod and its code sequence (PS3.15 E.1.1, CID 7050). */
export function recordDeidentification(ds: DicomDataset, options: ProfileOptions): void {
  const codes: [string, string][] = [['113100', 'Basic Application Confidentiality Profile']];
  if (options.retainDeviceIdentity) codes.push(['113109', 'Retain Device Identity Option']);
  if (options.cleanDescriptors) codes.push(['113105', 'Clean Descriptors Option']);
  setElement(ds, textElement('00120062', 'CS', 'YES'));
  setElement(ds, textElement('00120063', 'LO', ['PS3.15 Basic Profile', ...(options.retainDeviceIdentity ? ['Retain Device Identity'] : []), ...(options.cleanDescriptors ? ['Clean Descriptors'] : [])].join('\\')));
  setElement(ds, {
    tag: '00120064',
    vr: 'SQ',
    items: codes.map(([value, meaning]) => [textElement('00080100', 'SH', value), textElement('00080102', 'SH', 'DCM'), textElement('00080104', 'LO', meaning)]),
  });
}
