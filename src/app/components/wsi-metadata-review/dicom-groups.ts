import type { FieldSummary } from '../../state/batch-store.ts';

/**
 * The DICOM metadata review in words a lab person reads: fields grouped by the module they belong
 * to, with their plain names ("Patient's Name") and the tag number as secondary text, and the
 * elements inside a sequence collapsed under the sequence they sit in.
 *
 * Names come from the field's label, which the engine builds from its bundled PS3.6 dictionary and
 * PS3.15 Annex E names (src/engine/dicom/fields.ts `fieldLabel`: "Name (gggg,eeee) in Parent
 * (gggg,eeee) › …"); the field id carries the tag path ('dicom:00400560/00400551'). Reading both
 * keeps the 180 KB dictionary in the engine worker instead of the page's bundle, and works for
 * batches saved before this view existed.
 */

export type DicomModule = 'Patient' | 'Study' | 'Series' | 'Equipment' | 'Specimen' | 'Image/Frame' | 'Private' | 'Other';

export const MODULE_ORDER: DicomModule[] = ['Patient', 'Study', 'Series', 'Equipment', 'Specimen', 'Image/Frame', 'Private', 'Other'];

/** Top-level tags of modules whose tags share their group with other modules (PS3.3 C.7, C.8.12). */
const BY_TAG: Record<string, DicomModule> = {};
const assign = (module: DicomModule, tags: string): void => {
  for (const t of tags.split(' ')) BY_TAG[t] = module;
};
// General Study, Patient Study, Clinical Trial Study
assign('Study', '0020000D 00200010 00080020 00080030 00080050 00080051 00080056 00080090 00080096 00081030 00081032 00081048 00081049 00081060 00081062 00081080 00081084 00101010 00101020 00101030 00102180 001021B0');
// General Series, Whole Slide Microscopy Series, Performed Procedure Step
assign('Series', '0020000E 00200011 00200060 00080060 00080021 00080031 0008103E 00081050 00081052 00081070 00081072 00081111 00081250 00181030 00400244 00400245 00400253 00400254 00400260 00400275 00400280');
// General / Enhanced General Equipment
assign('Equipment', '00080070 00080080 00080081 00080082 00081010 00081040 00081041 00081090 00181000 00181002 00181008 00181016 00181017 00181018 00181019 00181020 00181050 00181200 00181201');
// Whole Slide Microscopy Image, Multi-frame, Frame of Reference, Acquisition Context, SOP Common's UIDs
assign('Image/Frame', '00080008 00080016 00080018 00080022 00080023 00080032 00080033 0008002A 00082111 00082112 00089206 00189004 00189073 00200013 00200020 00200052 00201040 00400555');

/** The module a field belongs to, from the first tag of its path (a sequence's elements go with it). */
export function moduleOf(tag: string): DicomModule {
  const group = parseInt(tag.slice(0, 4), 16);
  if (group % 2 === 1) return 'Private';
  const byTag = BY_TAG[tag];
  if (byTag) return byTag;
  const elem = parseInt(tag.slice(4), 16);
  if (group === 0x0010 || group === 0x0038) return 'Patient';
  if (group === 0x0032) return 'Study';
  // Specimen module: 0040,05xx–06xx (container, specimen description, preparation).
  if (group === 0x0040 && elem >= 0x0500 && elem < 0x0700) return 'Specimen';
  if ([0x0028, 0x0048, 0x0022, 0x5200, 0x7fe0].includes(group) || (group === 0x0020 && elem >= 0x9000)) return 'Image/Frame';
  return 'Other';
}

export interface DicomRow {
  field: FieldSummary;
  /** The attribute's own plain name ("Specimen Identifier"). */
  name: string;
  /** Its tag number as DICOM writes it: "(0040,0551)". */
  tag: string;
  /** Sequences between the top-level one and this element, by name ("Specimen Preparation Sequence"). */
  within: string[];
}

export interface DicomEntry {
  /** The top-level attribute: its own field when the review lists it, else only its name. */
  top: { name: string; tag: string; field?: FieldSummary };
  /** Elements inside it (nested sequence items), collapsed under it. */
  nested: DicomRow[];
}

export interface DicomModuleGroup {
  module: DicomModule;
  entries: DicomEntry[];
  /** Every field of the group, top-level and nested. */
  fields: FieldSummary[];
}

export function isDicomField(f: FieldSummary): boolean {
  return f.id.startsWith('dicom:');
}

const NAMED = /^(.*?) \(([0-9A-Fa-fx]{4}),([0-9A-Fa-fx]{4})\)/;

/** The labels' segments: the element first, then its sequences from the outermost. */
function labelParts(label: string): { name: string; tag: string }[] {
  // "Own (gggg,eeee) in Outer (gggg,eeee) › Inner (gggg,eeee)": split after the element's own tag.
  const cut = /\([0-9A-Fa-fx]{4},[0-9A-Fa-fx]{4}\) in /.exec(label);
  const own = cut ? label.slice(0, cut.index + 11) : label;
  const path = cut ? label.slice(cut.index + cut[0].length) : '';
  const parse = (s: string) => {
    const m = NAMED.exec(s.trim());
    return m ? { name: m[1]!, tag: `(${m[2]},${m[3]})` } : { name: s.trim(), tag: '' };
  };
  return [parse(own), ...(path ? path.split(' › ').map(parse) : [])];
}

/** A field's plain name and tag (the label without its tag numbers and path). */
export function dicomRow(f: FieldSummary): DicomRow {
  const [own, ...parents] = labelParts(f.label);
  return { field: f, name: own!.name, tag: own!.tag, within: parents.slice(1).map((p) => p.name) };
}

/** The DICOM fields of a slide by module, each sequence with its nested elements under it. */
export function groupDicomFields(fields: FieldSummary[]): DicomModuleGroup[] {
  const byTop = new Map<string, DicomEntry>();
  for (const f of fields) {
    const path = f.id.slice('dicom:'.length).split('/');
    const top = path[0]!;
    let e = byTop.get(top);
    if (!e) {
      e = { top: { name: '', tag: `(${top.slice(0, 4)},${top.slice(4)})` }, nested: [] };
      byTop.set(top, e);
    }
    if (path.length === 1) {
      e.top.field = f;
      e.top.name = dicomRow(f).name;
    } else {
      e.nested.push(dicomRow(f));
      // The sequence's name as the nested element's label gives it, when the sequence itself is not a field.
      e.top.name ||= labelParts(f.label)[1]?.name ?? e.top.tag;
    }
  }
  const groups = new Map<DicomModule, DicomModuleGroup>();
  for (const [tag, e] of byTop) {
    const module = moduleOf(tag);
    let g = groups.get(module);
    if (!g) {
      g = { module, entries: [], fields: [] };
      groups.set(module, g);
    }
    g.entries.push(e);
    if (e.top.field) g.fields.push(e.top.field);
    g.fields.push(...e.nested.map((n) => n.field));
  }
  return MODULE_ORDER.filter((m) => groups.has(m)).map((m) => groups.get(m)!);
}

/**
 * Whether removing this field means replacing its value rather than deleting it: UIDs get new
 * ones made from the batch's key (PS3.15 Annex E action U, "remapped"), and values the WSI IOD
 * needs present get a dummy. The review says "replaced" for these, not "redact".
 */
export function isReplaced(f: FieldSummary): boolean {
  const why = f.reason ?? '';
  return /remapped|replaced by a dummy|Annex E: U\b/.test(why) || (isDicomField(f) && f.class === 'phi' && /\bUID$/.test(dicomRow(f).name));
}

/** "Patient (3), Study (2)": kinds of identifying fields of a slide, for warnings (never values). */
export function identifyingKinds(fields: FieldSummary[]): { count: number; kinds: string[] } {
  const phi = fields.filter((f) => f.class === 'phi');
  const counts = new Map<string, number>();
  for (const f of phi) {
    const kind = isDicomField(f) ? moduleOf(f.id.slice(6, 14)) : dicomRow(f).name;
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return { count: phi.length, kinds: [...counts].map(([k, n]) => (n > 1 ? `${k} (${n})` : k)) };
}
