import { DICTIONARY_ROWS } from './tables/dictionary.ts';

/** VR and keyword of a standard data element, from the bundled PS3.6 dictionary. */
export interface DictEntry {
  vr: string;
  keyword: string;
  /** Retired from the standard (PS3.6): kept only when a rule names it. */
  retired: boolean;
}

let table: Map<string, DictEntry> | undefined;

function load(): Map<string, DictEntry> {
  if (table) return table;
  table = new Map();
  for (const line of DICTIONARY_ROWS.split('\n')) {
    const [tag, vr, keyword, flag] = line.split(' ');
    table.set(tag, { vr, keyword, retired: flag === 'R' });
  }
  return table;
}

/** Tag as 8 upper-case hex digits, e.g. '00100010'. */
export function lookup(tag: string): DictEntry | undefined {
  const hit = load().get(tag);
  if (hit) return hit;
  // Repeating groups (overlays 60xx, curves 50xx) are not listed per group in the dictionary.
  const g = tag.slice(0, 2);
  if (g === '60' || g === '50') return load().get(`${g}00${tag.slice(4)}`);
  return undefined;
}

export function isPrivateTag(tag: string): boolean {
  // Odd groups are private (PS3.5 7.8); groups 0001, 0003, 0005, 0007 and FFFF are illegal but treated alike.
  return parseInt(tag.slice(3, 4), 16) % 2 === 1;
}

/**
 * The VR to write for an element when the input did not say (implicit VR) or said UN.
 * DCMTK's pseudo VRs (US or SS, OB or OW, …) resolve to the unsigned/word form, which is what
 * every WSI writer uses for the attributes concerned.
 */
export function dictionaryVr(tag: string): string {
  if (isPrivateTag(tag)) {
    const elem = parseInt(tag.slice(4), 16);
    return elem >= 0x10 && elem <= 0xff ? 'LO' : 'UN'; // private creator elements are LO
  }
  if (tag.endsWith('0000')) return 'UL';
  const vr = lookup(tag)?.vr;
  switch (vr) {
    case undefined:
    case 'na':
      return 'UN';
    case 'xs':
      return 'US';
    case 'ox':
    case 'px':
    case 'lt':
      return 'OW';
    case 'up':
      return 'UL';
    default:
      return vr;
  }
}

export function keywordOf(tag: string): string | undefined {
  return lookup(tag)?.keyword;
}

export function isRetiredTag(tag: string): boolean {
  return lookup(tag)?.retired === true;
}

/** The VRs PS3.6 allows for a standard element (DCMTK's pseudo VRs expanded); empty if unknown. */
export function allowedVrs(tag: string): readonly string[] {
  const vr = lookup(tag)?.vr;
  switch (vr) {
    case undefined:
    case 'na':
      return [];
    case 'xs':
      return ['US', 'SS'];
    case 'ox':
    case 'px':
      return ['OB', 'OW'];
    case 'lt':
      return ['US', 'SS', 'OW'];
    case 'up':
      return ['UL'];
    default:
      return [vr];
  }
}

/**
 * What a VR's value is, as far as interpreting it goes: values of VRs in one kind read the same
 * way (SH where the dictionary says LO is still text; UL for US still a number), across kinds they
 * do not (text stored as OB, a sequence stored as OW or UT is bytes the engine cannot judge).
 */
type VrKind = 'text' | 'uid' | 'number' | 'bytes' | 'sequence';

const VR_KINDS: Record<string, VrKind> = {
  AE: 'text', AS: 'text', CS: 'text', DA: 'text', DS: 'text', DT: 'text', IS: 'text', LO: 'text', LT: 'text',
  PN: 'text', SH: 'text', ST: 'text', TM: 'text', UC: 'text', UR: 'text', UT: 'text',
  // A UID is text, but the rules judge it by its form (class UIDs kept, the rest remapped): a UID
  // stored as free text, or free text stored as a UID, would be judged by the wrong rule.
  UI: 'uid',
  US: 'number', SS: 'number', UL: 'number', SL: 'number', UV: 'number', SV: 'number', FL: 'number', FD: 'number', AT: 'number',
  OB: 'bytes', OW: 'bytes', OF: 'bytes', OD: 'bytes', OL: 'bytes', OV: 'bytes', UN: 'bytes',
  SQ: 'sequence',
};

/**
 * True when the VR a file gives a standard element contradicts the dictionary in a way the engine
 * cannot interpret: another kind of value (a sequence stored as UN/UT/OB/OW, a name stored as OB,
 * a number stored as text) or no VR at all. Such an element is opaque: whatever the rules say about
 * the attribute was said about a value of the dictionary's kind, not about these bytes. Private and
 * unknown elements are judged as such elsewhere (their VR says nothing the dictionary could deny).
 */
export function vrContradicts(tag: string, vr: string): boolean {
  if (isPrivateTag(tag) || tag.endsWith('0000')) return false;
  const allowed = allowedVrs(tag);
  if (allowed.length === 0) return false;
  const kind = VR_KINDS[vr];
  if (kind === undefined) return true;
  return !allowed.some((a) => VR_KINDS[a] === kind);
}
