import type { FieldClass } from '../formats/slide-format.ts';
import { ANNEX_E_ROWS } from './tables/annex-e.ts';
import { isPrivateTag } from './dictionary.ts';

/**
 * PS3.15 Annex E (Basic Application Level Confidentiality Profile) driven by the bundled table,
 * plus the whole-slide rules from ../shared/reference/README.md that must win over it (integrity
 * keep list, Type 1 dummies, content item values).
 */
export interface AnnexRow {
  pattern: string;
  basic: string;
  options: Record<string, string>;
  name: string;
}

/** What happens to an element when its field is selected for removal. */
export type Action = 'keep' | 'remove' | 'empty' | 'dummy' | 'remap' | 'clean' | 'recurse';

export interface Decision {
  action: Action;
  cls: FieldClass;
  reason: string;
}

export interface ProfileOptions {
  retainDeviceIdentity?: boolean;
  cleanDescriptors?: boolean;
}

let exact: Map<string, AnnexRow> | undefined;
let patterns: AnnexRow[] = [];

function load(): Map<string, AnnexRow> {
  if (exact) return exact;
  exact = new Map();
  for (const line of ANNEX_E_ROWS.split('\n')) {
    const [pattern, basic, opts, name] = line.split('|');
    const options: Record<string, string> = {};
    for (const kv of opts ? opts.split(',') : []) {
      const [k, v] = kv.split('=');
      options[k] = v;
    }
    const row = { pattern, basic, options, name };
    if (pattern.includes('X')) patterns.push(row);
    else exact.set(pattern, row);
  }
  return exact;
}

export function annexRow(tag: string): AnnexRow | undefined {
  const hit = load().get(tag);
  if (hit) return hit;
  for (const row of patterns) {
    let ok = true;
    for (let i = 0; i < 8 && ok; i++) ok = row.pattern[i] === 'X' || row.pattern[i] === tag[i];
    if (ok) return row;
  }
  return undefined;
}

/**
 * WSI integrity attributes (README "Keep"): never touched, whatever the table says, because the
 * image cannot be displayed or measured without them.
 */
const KEEP = new Set([
  '00080008', '00080016', '00280002', '00280004', '00280006', '00280008', '00280010', '00280011', '00280100',
  '00280101', '00280102', '00280103', '00280301', '00282000', '00280030', '00180050', '00209311', '00209221',
  '00209222', '00480001', '00480002', '00480003', '00480006', '00480007', '00480008', '00480010', '00480011',
  '00480012', '00480102', '00480105', '0048021A', '0048021E', '0048021F', '0040072A', '0040073A', '0040074A',
  '00480303', '52009229', '52009230', '00289110', '7FE00001', '7FE00002', '00280120', '00282110', '00282112',
  '00282114', '00209157', '00209165', '00209167',
]);

/** Class-like UIDs: identify kinds of things, not patients or studies; never remapped. */
const CLASS_UID_TAGS = new Set(['00080016', '00081150', '0008001A', '0008001B', '00020002', '00020010', '00080118', '0008010C']);

/** Attributes of the VL WSI IOD that are Type 1: removing or emptying them breaks conformance. */
const TYPE1 = new Set(['00400512', '00400551', '0008002A', '00080023', '00080033', '00181000', '00181020', '00081090', '00080070']);
/** Type 2: must be present, may be empty. */
const TYPE2 = new Set([
  '00100010', '00100020', '00100030', '00100040', '00080020', '00080030', '00080090', '00200010', '00080050',
  '00400513', '00400518', '00400610', '00400555', '00201040', '00400562',
]);

/** Content item sequences (SR content item macro): their value attributes are Type 1C. */
const CONTENT_ITEM_SEQS = new Set(['00400612', '0040A730', '00400555', '0040A375', '0040A504']);
const CONTENT_VALUES: Record<string, Action> = {
  '0040A160': 'dummy', // TextValue: e.g. the parent specimen's identifier in a preparation step
  '0040A120': 'dummy', // DateTime
  '0040A121': 'dummy', // Date
  '0040A122': 'dummy', // Time
  '0040A123': 'dummy', // PersonName
  '0040A124': 'remap', // UID
};

/**
 * Identifying attributes PS3.15 E.1-1 does not list but the WSI reference does (issuers of
 * identifiers name the institution), with the Basic-profile-style action to take.
 */
const EXTRA: Record<string, { basic: string; name: string }> = {
  '00080051': { basic: 'X', name: 'Issuer of Accession Number Sequence' },
  '00100024': { basic: 'X', name: 'Issuer of Patient ID Qualifiers Sequence' },
  '00400031': { basic: 'D', name: 'Local Namespace Entity ID' },
  '00400032': { basic: 'D', name: 'Universal Entity ID' },
};

function pickCombo(tag: string, vr: string, basic: string): string {
  const choices = basic.split('/').map((c) => c.replace('*', ''));
  if (choices.length === 1) return choices[0];
  if (vr === 'SQ' && choices.includes('U')) return 'U';
  if (TYPE1.has(tag) && vr !== 'SQ' && choices.includes('D')) return 'D';
  if ((TYPE1.has(tag) || TYPE2.has(tag)) && choices.includes('Z')) return 'Z';
  if (choices.includes('X')) return 'X';
  return choices.includes('Z') ? 'Z' : choices[0];
}

function fromLetter(letter: string, vr: string): Action {
  switch (letter) {
    case 'K':
      return 'keep';
    case 'X':
      return 'remove';
    case 'Z':
      return 'empty';
    case 'D':
      // A dummy sequence means: keep its structure and de-identify what is inside.
      return vr === 'SQ' ? 'recurse' : vr === 'UI' ? 'remap' : 'dummy';
    case 'U':
      return vr === 'SQ' ? 'recurse' : 'remap';
    case 'C':
      return vr === 'SQ' ? 'recurse' : 'clean';
    default:
      return 'remove';
  }
}

function isClassUid(value: string | undefined): boolean {
  return value !== undefined && value.split('\\').every((v) => v.trim() === '' || v.trim().startsWith('1.2.840.10008.'));
}

/**
 * The decision for one element. `parents` are the tags of the enclosing sequences (outermost
 * first); `uidValue` is the text of a UI element (class UIDs are recognised by value too).
 */
export function decide(parents: string[], tag: string, vr: string, options: ProfileOptions = {}, uidValue?: string): Decision {
  if (isPrivateTag(tag) || parents.some(isPrivateTag)) return { action: 'remove', cls: 'phi', reason: 'private attribute (removed by the Basic profile)' };
  if (KEEP.has(tag)) return { action: vr === 'SQ' ? 'recurse' : 'keep', cls: vr === 'SQ' ? 'neutral' : 'critical', reason: 'needed to display or measure the slide' };
  if (CLASS_UID_TAGS.has(tag)) return { action: 'keep', cls: tag === '00080016' ? 'critical' : 'neutral', reason: 'class UID (never remapped)' };
  const parent = parents[parents.length - 1];
  if (parent !== undefined && CONTENT_ITEM_SEQS.has(parent) && CONTENT_VALUES[tag]) {
    const action = CONTENT_VALUES[tag];
    return { action, cls: 'phi', reason: action === 'remap' ? 'content item UID (remapped)' : 'content item value (Type 1C: replaced by a dummy)' };
  }
  const extra = EXTRA[tag];
  if (extra) {
    const action = fromLetter(extra.basic, vr);
    return { action, cls: 'phi', reason: `identifies an issuer or institution (WSI reference list): ${extra.basic}` };
  }
  const row = annexRow(tag);
  if (row) {
    let letter = pickCombo(tag, vr, row.basic);
    let via = 'Basic profile';
    if (options.retainDeviceIdentity && row.options.rtnDevIdOpt) {
      letter = row.options.rtnDevIdOpt;
      via = 'Retain Device Identity option';
    } else if (options.cleanDescriptors && row.options.cleanDescOpt) {
      letter = row.options.cleanDescOpt;
      via = 'Clean Descriptors option';
    }
    const action = fromLetter(letter, vr);
    if (action === 'keep') return { action, cls: 'neutral', reason: `PS3.15 Annex E: kept (${via})` };
    if (action === 'recurse') return { action, cls: 'neutral', reason: `PS3.15 Annex E: ${row.basic} (${via}); contents de-identified` };
    if (action === 'remap' && isClassUid(uidValue)) return { action: 'keep', cls: 'neutral', reason: 'class UID (never remapped)' };
    return { action, cls: 'phi', reason: `PS3.15 Annex E: ${row.basic} (${via})` };
  }
  if (vr === 'UI') {
    if (isClassUid(uidValue)) return { action: 'keep', cls: 'neutral', reason: 'standard UID (never remapped)' };
    return { action: 'remap', cls: 'phi', reason: 'instance UID (remapped)' };
  }
  return { action: vr === 'SQ' ? 'recurse' : 'keep', cls: 'neutral', reason: 'not listed by PS3.15 Annex E' };
}

/** Display name of an attribute from the Annex E table, if listed. */
export function annexName(tag: string): string | undefined {
  return annexRow(tag)?.name;
}

/**
 * What to do when the user selects an attribute the profile would keep (a 'neutral' field):
 * honour the choice, but keep Type 1 present (dummy) and Type 2 present (empty).
 */
export function userRemovalAction(d: Decision, tag: string, vr: string): Action {
  if (d.action !== 'keep' || d.cls !== 'neutral' || !d.reason.startsWith('not listed')) return d.action;
  if (TYPE1.has(tag)) return vr === 'SQ' ? 'empty' : 'dummy';
  if (TYPE2.has(tag)) return 'empty';
  return 'remove';
}
