import type { DicomDataset, DicomElement } from '../engine/dicom/dataset.ts';
import { formatTag, isTextVr, stringValue, textOf } from '../engine/dicom/dataset.ts';
import { decide } from '../engine/dicom/deid-profile.ts';
import type { DicomSlide } from '../engine/dicom/dicom-slide.ts';
import { attributeName, fieldId } from '../engine/dicom/fields.ts';

/**
 * Judging a de-identified DICOM slide. A clean output still holds identifying attributes by
 * design: Type 2 ones emptied (Z), Type 1 ones given dummies (D), UIDs remapped (U). So a field
 * the profile classes as identifying counts as remaining PHI only when it holds a real value.
 *
 * The dummy forms mirror what src/engine/dicom/deidentify.ts writes (its constants are private);
 * they belong in the driver as an `isRedactedValue` helper, after which this copy goes.
 */
const CONSTANT_DUMMIES: Record<string, string[]> = {
  DA: ['19000101', '19000102'],
  TM: ['000000', '000001'],
  DT: ['19000101', '19000102'],
  PN: ['ANONYMIZED', 'ANONYMOUS'],
  AS: ['000D', '001D'],
  IS: ['0', '1'],
  DS: ['0', '1'],
};
/** Keyed dummy identifiers (UidRemapper.dummyId). */
const KEYED_DUMMY = /^DEID-[0-9A-F]{10}$/;
/** A UUID-derived UID (PS3.5 B.2): what remapping produces; at most 39 digits for 128 bits. */
const REMAPPED_UID = /^2\.25\.(0|[1-9]\d{0,38})$/;
const STANDARD_UID = '1.2.840.10008.';

function redactedPart(vr: string, part: string): boolean {
  if (part === '') return true;
  if (vr === 'UI') return REMAPPED_UID.test(part) || part.startsWith(STANDARD_UID);
  if (vr === 'UR' && part === 'urn:deidentified') return true;
  return (CONSTANT_DUMMIES[vr]?.includes(part) ?? false) || KEYED_DUMMY.test(part);
}

/** Empty, a dummy, or a remapped UID: nothing of the original value is left. */
export function isRedactedValue(el: DicomElement): boolean {
  if (el.vr === 'SQ') return (el.items?.length ?? 0) === 0;
  if (!el.value || el.value.length === 0) return true;
  if (isTextVr(el.vr)) return (textOf(el) ?? '').split('\\').every((p) => redactedPart(el.vr, p.trim()));
  // Binary dummies are zero-filled values of the same length.
  return el.value.every((b) => b === 0);
}

export interface DicomVerdict {
  /** Identifying fields still holding a real value: ids and labels only, never the values. */
  remaining: { id: string; label: string }[];
  /** Instance-level problems (de-identification not recorded). */
  problems: string[];
}

function label(parents: string[], tag: string): string {
  const own = `${attributeName(tag)} ${formatTag(tag)}`;
  return parents.length ? `${own} in ${parents.map(attributeName).join(' › ')}` : own;
}

export function judgeDicomSlide(slide: DicomSlide): DicomVerdict {
  const remaining = new Map<string, string>();
  const missing = new Map<string, string[]>();
  const note = (what: string, where: string) => missing.set(what, [...(missing.get(what) ?? []), where]);
  const visit = (ds: DicomDataset, parents: string[]): void => {
    for (const el of ds) {
      const d = decide(parents, el.tag, el.vr, {}, el.vr === 'UI' ? textOf(el) : undefined);
      const id = fieldId(parents, el.tag);
      if (el.vr === 'SQ') {
        // A sequence the profile removes or empties (private ones included) is judged whole.
        if (d.cls === 'phi' && (d.action === 'remove' || d.action === 'empty')) {
          if (!isRedactedValue(el)) remaining.set(id, label(parents, el.tag));
          continue;
        }
        for (const item of el.items ?? []) visit(item, [...parents, el.tag]);
        continue;
      }
      if (d.cls === 'phi' && !isRedactedValue(el)) remaining.set(id, label(parents, el.tag));
    }
  };
  for (const inst of slide.instances) {
    const ds = inst.header.dataset;
    const where = `${inst.image.id} (${inst.image.role})`;
    if (stringValue(ds, '00120062')?.toUpperCase() !== 'YES') note('Patient Identity Removed (0012,0062) is not YES', where);
    if ((stringValue(ds, '00120063') ?? '') === '') note('De-identification Method (0012,0063) is missing', where);
    visit(ds, []);
  }
  const problems = [...missing].map(([what, where]) => (where.length === slide.instances.length ? `${what} in every instance` : `${what} in ${where.join(', ')}`));
  return { remaining: [...remaining].map(([id, l]) => ({ id, label: l })), problems };
}
