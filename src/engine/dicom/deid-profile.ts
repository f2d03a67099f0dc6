import type { FieldClass } from '../formats/slide-format.ts';
import { ANNEX_E_ROWS } from './tables/annex-e.ts';
import type { DicomDataset } from './dataset.ts';
import { allowedVrs, dictionaryVr, isPrivateTag, isRetiredTag, lookup, vrContradicts } from './dictionary.ts';
import { allowlistEntry } from './tables/wsi-allowlist.ts';
import type { IodAttribute } from './tables/wsi-iod.ts';
import { CONTENT_ITEM_SEQUENCES, iodRequirement, mustHaveValue, WSI_INTEGRITY_KEEP } from './tables/wsi-iod.ts';

/**
 * PS3.15 Annex E (Basic Application Level Confidentiality Profile) driven by the bundled table,
 * plus the whole-slide rules that must win over it: the integrity keep list and the requirements of
 * the VL WSI IOD (tables/wsi-iod.ts) — whatever is asked, an attribute the IOD requires with a value
 * is kept, dummied or remapped, and one it requires present is emptied, never deleted.
 *
 * Default-deny: an element no rule names — not in the dictionary, retired, private, a command
 * (0000) or file meta (0002) element inside the data set, or a standard attribute that neither
 * Annex E, the IOD nor the reviewed allowlist (tables/wsi-allowlist.ts) lists — is identifying and
 * removed by auto redact (emptied/dummied instead when the IOD needs it present).
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
  /** What happens when the field is selected for removal (auto redact selects every 'phi' field). */
  action: Action;
  cls: FieldClass;
  reason: string;
  /**
   * For an attribute the profile keeps ('keep'), what a user's explicit removal does instead:
   * the least destructive action the IOD allows. Absent = the user cannot remove it.
   */
  onUserRemoval?: Action;
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
 * Elements the engine cannot vouch for, whatever their value: what the review calls them and why
 * they go. 'command' and 'meta' never belong in a stored data set and are removed even when the
 * user would keep them.
 */
export type UnvouchedKind = 'private' | 'command' | 'meta' | 'unknown' | 'retired';

export function unvouchedKind(parents: readonly string[], tag: string): UnvouchedKind | undefined {
  if (isPrivateTag(tag) || parents.some(isPrivateTag)) return 'private';
  if (tag.startsWith('0000')) return 'command';
  if (tag.startsWith('0002')) return 'meta';
  if (!lookup(tag)) return 'unknown';
  return undefined;
}

const UNVOUCHED_REASON: Record<UnvouchedKind, string> = {
  private: 'private attribute: no safe-private rule for its creator (removed by the Basic profile)',
  command: 'command group (0000) element inside the data set: not part of a stored object',
  meta: 'file meta (0002) element inside the data set: the file meta is rebuilt, never copied',
  unknown: 'unknown attribute: not in the DICOM dictionary, so nothing says what it holds',
  retired: 'retired attribute that no rule names: it may hold identifying text',
};

/**
 * A standard element whose VR in the file contradicts the dictionary in a way the engine cannot
 * interpret (dictionary.ts vrContradicts): e.g. the Specimen Description Sequence stored as OW or
 * UT, or as UN that does not read as an implicit VR sequence. Every rule below was written for a
 * value of the dictionary's kind; applied to these bytes, "keep, required by the IOD" would pass an
 * unread blob (specimen identifier included) straight through. So it is opaque: identifying, always
 * removed (never kept at the user's wish), emptied in the dictionary's VR when the IOD needs it
 * present, and the file is refused when the IOD needs it with a value (requiredOpaqueElement).
 */
export function isOpaque(tag: string, vr: string): boolean {
  return !isPrivateTag(tag) && lookup(tag) !== undefined && vrContradicts(tag, vr);
}

const OPAQUE_REASON = 'stored with a value representation the DICOM dictionary does not allow for it: its content cannot be interpreted';

function opaque(parents: readonly string[], tag: string): Decision {
  const req = iodRequirement(parents, tag);
  // Type 2: present but empty, in the VR the dictionary gives (see opaqueEmptyVr). Type 1 never
  // gets here in a plan (the file is refused when opened); removing it is still the safe answer.
  if (req && !mustHaveValue(req)) return { action: 'empty', cls: 'phi', reason: `${OPAQUE_REASON}; emptied: ${requiredBy(req)}` };
  return { action: 'remove', cls: 'phi', reason: OPAQUE_REASON };
}

/** The VR to write an emptied opaque element with: the dictionary's, not the file's. */
export function opaqueEmptyVr(tag: string): string {
  return dictionaryVr(tag);
}

/**
 * The first opaque element (isOpaque) that the WSI IOD requires with a value (Type 1/1C), at any
 * depth: the file cannot be de-identified (removing it breaks the object, keeping it passes bytes
 * no rule has judged). Its place is returned, never its value.
 */
export function requiredOpaqueElement(ds: DicomDataset, parents: string[] = []): { parents: string[]; tag: string } | undefined {
  for (const el of ds) {
    if (unvouchedKind(parents, el.tag)) continue;
    if (isOpaque(el.tag, el.vr)) {
      if (mustHaveValue(iodRequirement(parents, el.tag))) return { parents, tag: el.tag };
      continue;
    }
    for (const item of el.items ?? []) {
      const hit = requiredOpaqueElement(item, [...parents, el.tag]);
      if (hit) return hit;
    }
  }
  return undefined;
}

/** Class-like UIDs: identify kinds of things, not patients or studies; never remapped. */
const CLASS_UID_TAGS = new Set(['00080016', '00081150', '0008001A', '0008001B', '00020002', '00020010', '00080118', '0008010C']);

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

/** Choose among the profile's alternatives (e.g. X/Z/D) the one the IOD allows. */
function pickCombo(vr: string, basic: string, req: IodAttribute | undefined): string {
  const choices = basic.split('/').map((c) => c.replace('*', ''));
  if (choices.length === 1) return choices[0];
  if (vr === 'SQ' && choices.includes('U')) return 'U';
  if (mustHaveValue(req) && vr !== 'SQ' && choices.includes('D')) return 'D';
  if (req && choices.includes('Z')) return 'Z';
  if (choices.includes('X')) return 'X';
  return choices.includes('Z') ? 'Z' : choices[0];
}

function requiredBy(req: IodAttribute): string {
  return `required by the WSI IOD (${req.module}, Type ${req.type})`;
}

/**
 * Raise an action to what the IOD tolerates: Type 1/1C must keep a value (a dummy, a remapped UID,
 * or, for a sequence, its items de-identified in place); Type 2/2C must stay present (emptied).
 */
function conform(action: Action, vr: string, req: IodAttribute | undefined): Action {
  if (!req || (action !== 'remove' && action !== 'empty')) return action;
  if (mustHaveValue(req)) return vr === 'SQ' ? 'recurse' : vr === 'UI' ? 'remap' : 'dummy';
  return 'empty';
}

function conformed(action: Action, vr: string, req: IodAttribute | undefined, reason: string): Decision {
  const raised = conform(action, vr, req);
  const why = raised === action || !req ? reason : `${reason}; ${raised === 'recurse' ? 'kept, contents de-identified' : raised === 'empty' ? 'emptied' : raised === 'remap' ? 'remapped' : 'replaced by a dummy'}: ${requiredBy(req)}`;
  return raised === 'recurse' ? { action: raised, cls: 'neutral', reason: why } : { action: raised, cls: 'phi', reason: why };
}

/** A user's removal of an attribute the profile keeps: deleted unless the IOD needs it present. */
function userRemoval(req: IodAttribute | undefined): Action | undefined {
  if (mustHaveValue(req)) return undefined;
  return req ? 'empty' : 'remove';
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
  const kind = unvouchedKind(parents, tag);
  if (kind) return { action: 'remove', cls: 'phi', reason: UNVOUCHED_REASON[kind] };
  if (isOpaque(tag, vr)) return opaque(parents, tag);
  if (WSI_INTEGRITY_KEEP.has(tag)) return { action: vr === 'SQ' ? 'recurse' : 'keep', cls: vr === 'SQ' ? 'neutral' : 'critical', reason: 'needed to display or measure the slide' };
  const req = iodRequirement(parents, tag);
  if (CLASS_UID_TAGS.has(tag)) return classUid(req, 'class UID (never remapped)');
  const parent = parents[parents.length - 1];
  if (parent !== undefined && CONTENT_ITEM_SEQUENCES.includes(parent) && CONTENT_VALUES[tag]) {
    const action = CONTENT_VALUES[tag];
    return { action, cls: 'phi', reason: action === 'remap' ? 'content item UID (remapped)' : 'content item value (Type 1C: replaced by a dummy)' };
  }
  const extra = EXTRA[tag];
  if (extra) return conformed(fromLetter(extra.basic, vr), vr, req, `identifies an issuer or institution (WSI reference list): ${extra.basic}`);
  const row = annexRow(tag);
  if (row) {
    let letter = pickCombo(vr, row.basic, req);
    let via = 'Basic profile';
    if (options.retainDeviceIdentity && row.options.rtnDevIdOpt) {
      letter = row.options.rtnDevIdOpt;
      via = 'Retain Device Identity option';
    } else if (options.cleanDescriptors && row.options.cleanDescOpt) {
      letter = row.options.cleanDescOpt;
      via = 'Clean Descriptors option';
    }
    const action = fromLetter(letter, vr);
    // Kept under an option the user chose: that choice stands.
    if (action === 'keep') return { action, cls: 'neutral', reason: `PS3.15 Annex E: kept (${via})` };
    if (action === 'recurse') return { action, cls: 'neutral', reason: `PS3.15 Annex E: ${row.basic} (${via}); contents de-identified` };
    if (action === 'remap' && isClassUid(uidValue)) return classUid(req, 'class UID (never remapped)');
    return conformed(action, vr, req, `PS3.15 Annex E: ${row.basic} (${via})`);
  }
  if (vr === 'UI') {
    if (isClassUid(uidValue)) return classUid(req, 'standard UID (never remapped)');
    return { action: 'remap', cls: 'phi', reason: 'instance UID (remapped)' };
  }
  // What the IOD requires is kept: a required sequence is kept and judged item by item; a Type 1
  // value the IOD needs as it is (Modality, Code Meaning, Frame Type…).
  if (vr === 'SQ' && req) return { action: 'recurse', cls: 'neutral', reason: requiredBy(req) };
  if (mustHaveValue(req)) return { action: 'keep', cls: 'critical', reason: requiredBy(req!) };
  const allowed = allowlistEntry(tag);
  if (allowed && (vr === 'SQ' ? allowedVrs(tag).includes('SQ') : allowedVrs(tag).includes(vr))) {
    const reason = `reviewed WSI allowlist (${allowed.why}): cannot carry free text`;
    if (vr === 'SQ') return { action: 'recurse', cls: 'neutral', reason: `${reason}; contents judged one by one` };
    return { action: 'keep', cls: 'neutral', reason: req ? `${reason}; ${requiredBy(req)}` : reason, onUserRemoval: userRemoval(req) };
  }
  const why = isRetiredTag(tag) ? UNVOUCHED_REASON.retired : 'standard attribute that neither PS3.15 Annex E nor the reviewed WSI allowlist lists: it may hold identifying text';
  return conformed('remove', vr, req, why);
}

function classUid(req: IodAttribute | undefined, reason: string): Decision {
  if (mustHaveValue(req)) return { action: 'keep', cls: 'critical', reason: `${reason}; ${requiredBy(req!)}` };
  return { action: 'keep', cls: 'neutral', reason, onUserRemoval: userRemoval(req) };
}

/**
 * The strongest change the IOD tolerates to an element the plan would keep, for a kept value found
 * to hold removed text (a removed identifier must not survive inside a kept field): removed, or
 * emptied (Type 2), or dummied/remapped (Type 1). Undefined when the value must stay as it is (the
 * integrity keep list, class UIDs): the PHI sweep then refuses the output rather than exempt it.
 */
export function forcedRemoval(parents: string[], tag: string, vr: string, uidValue?: string): Action | undefined {
  if (vr === 'SQ' || WSI_INTEGRITY_KEEP.has(tag) || CLASS_UID_TAGS.has(tag)) return undefined;
  if (vr === 'UI' && isClassUid(uidValue)) return undefined;
  return conform('remove', vr, iodRequirement(parents, tag));
}

/** Display name of an attribute from the Annex E table, if listed. */
export function annexName(tag: string): string | undefined {
  return annexRow(tag)?.name;
}

/**
 * What to do with an element whose field the user (or auto redact) selected: the profile's action,
 * or for an attribute the profile keeps, the removal the IOD allows (none for a Type 1 attribute).
 */
export function userRemovalAction(d: Decision): Action {
  return d.action === 'keep' ? (d.onUserRemoval ?? 'keep') : d.action;
}
