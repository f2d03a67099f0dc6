import type { MetadataField } from '../formats/slide-format.ts';
import type { DicomDataset, DicomElement } from './dataset.ts';
import { formatTag, isTextVr, textOf } from './dataset.ts';
import { annexName, decide, isOpaque, unvouchedKind } from './deid-profile.ts';
import { isRetiredTag, keywordOf } from './dictionary.ts';

/** Field id of an element: 'dicom:' + enclosing sequence tags + tag, e.g. 'dicom:00400560/00400551'. */
export function fieldId(parents: string[], tag: string): string {
  return `dicom:${[...parents, tag].join('/')}`;
}

/** Plain name of an attribute for the review; elements no rule vouches for say what they are. */
export function attributeName(tag: string): string {
  switch (unvouchedKind([], tag)) {
    case 'private': {
      const elem = parseInt(tag.slice(4), 16);
      return elem >= 0x10 && elem <= 0xff ? 'Private creator' : 'Private attribute';
    }
    case 'command':
      return 'Command attribute';
    case 'meta':
      return `File meta attribute inside the data set${keywordOf(tag) ? ` (${spaced(keywordOf(tag)!)})` : ''}`;
    case 'unknown':
      return 'Unknown attribute';
    default: {
      const name = annexName(tag) ?? spaced(keywordOf(tag) ?? '');
      return isRetiredTag(tag) ? `Retired attribute ${name}` : name;
    }
  }
}

function spaced(keyword: string): string {
  return keyword.replace(/([a-z])([A-Z])/g, '$1 $2');
}

/** The review's label of an element: its name and tag number, and where it sits. */
export function fieldLabel(parents: readonly string[], tag: string): string {
  const own = `${attributeName(tag)} ${formatTag(tag)}`;
  return parents.length ? `${own} in ${parents.map((p) => `${attributeName(p)} ${formatTag(p)}`).join(' › ')}` : own;
}

const NUMERIC: Record<string, [number, (dv: DataView, at: number) => number]> = {
  US: [2, (dv, at) => dv.getUint16(at, true)],
  SS: [2, (dv, at) => dv.getInt16(at, true)],
  UL: [4, (dv, at) => dv.getUint32(at, true)],
  SL: [4, (dv, at) => dv.getInt32(at, true)],
  FL: [4, (dv, at) => dv.getFloat32(at, true)],
  FD: [8, (dv, at) => dv.getFloat64(at, true)],
};

/** A short display form of a value (may be PHI: shown to the user, never logged). */
export function displayValue(el: DicomElement): string {
  // An empty sequence shows as an empty value, like an empty attribute.
  if (el.vr === 'SQ') return el.items?.length ? `${el.items.length} item(s)` : '';
  const v = el.value ?? new Uint8Array(0);
  if (isTextVr(el.vr)) {
    const t = textOf(el) ?? '';
    return t.length > 256 ? `${t.slice(0, 256)}…` : t;
  }
  const num = NUMERIC[el.vr];
  if (num) {
    const [size, get] = num;
    const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
    const n = Math.floor(v.length / size);
    const shown = Array.from({ length: Math.min(n, 16) }, (_, i) => String(get(dv, i * size)));
    return shown.join('\\') + (n > 16 ? `\\… (${n} values)` : '');
  }
  if (el.vr === 'AT' && v.length >= 4) {
    const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
    return Array.from({ length: Math.floor(v.length / 4) }, (_, i) =>
      formatTag(dv.getUint16(i * 4, true).toString(16).padStart(4, '0').toUpperCase() + dv.getUint16(i * 4 + 2, true).toString(16).padStart(4, '0').toUpperCase()),
    ).join('\\');
  }
  return `<${v.length} bytes>`;
}

interface Acc {
  field: MetadataField;
  values: string[];
  locations: Set<string>;
}

/**
 * The union of the attributes of every instance, nested ones included, classified by the profile
 * (Basic profile, no options: options are applied when the plan is made).
 */
export function collectFields(instances: { dataset: DicomDataset; location: string }[]): MetadataField[] {
  const acc = new Map<string, Acc>();
  const add = (parents: string[], el: DicomElement, location: string, cls: MetadataField['class'], reason: string): void => {
    const id = fieldId(parents, el.tag);
    let a = acc.get(id);
    if (!a) {
      a = { field: { id, label: fieldLabel(parents, el.tag), value: '', class: cls, reason }, values: [], locations: new Set() };
      acc.set(id, a);
    }
    const shown = displayValue(el);
    if (!a.values.includes(shown) && a.values.length < 8) a.values.push(shown);
    a.locations.add(location);
  };
  const unvouched = new Set<string>();
  const visit = (ds: DicomDataset, parents: string[], location: string): void => {
    for (const el of ds) {
      const d = decide(parents, el.tag, el.vr, {}, el.vr === 'UI' ? textOf(el) : undefined);
      if (unvouchedKind(parents, el.tag) || isOpaque(el.tag, el.vr)) unvouched.add(fieldId(parents, el.tag));
      if (el.vr === 'SQ') {
        if (d.action === 'remove' || d.action === 'empty') add(parents, el, location, d.cls, d.reason);
        // Every sequence is listed item by item, private ones too: whatever the user keeps, each
        // element inside is judged (and shown) on its own.
        for (const item of el.items ?? []) visit(item, [...parents, el.tag], location);
        continue;
      }
      add(parents, el, location, d.cls, d.reason);
    }
  };
  for (const inst of instances) visit(inst.dataset, [], inst.location);
  return [...acc.values()].map((a) => ({
    ...a.field,
    // A standard attribute empty in every instance carries nothing identifying (e.g. Type 2 left
    // blank); an element no rule vouches for stays identifying, so it is removed even when empty.
    ...(a.field.class === 'phi' && !unvouched.has(a.field.id) && a.values.every((v) => v === '') ? { class: 'neutral' as const, reason: `empty (${a.field.reason})` } : {}),
    value: a.values.length === 1 ? a.values[0] : a.values.join(' | '),
    locations: [...a.locations],
  }));
}
