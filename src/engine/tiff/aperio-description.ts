/**
 * Aperio ImageDescription, parsed by position so edits never depend on searching for text:
 *   header (";"-separated segments) then "|Key = Value" pairs.
 * The header's first segment (version line, dimensions, tile size, compression) is structure;
 * every further segment that is not another "Aperio Image Library ..." block is what Aperio puts
 * there for the original file name (e.g. "…Q=30;CMU-1;Aperio Image Library…").
 * Strings are latin-1 so string index == byte index in the file.
 */

export interface AperioPair {
  key: string;
  value: string;
  /** The pair's text exactly as in the description, without its leading "|". */
  raw: string;
}

export interface AperioHeaderSegment {
  text: string;
  /** True for the structural segments; false for a file name (identifying). */
  structural: boolean;
}

export interface AperioDescription {
  segments: AperioHeaderSegment[];
  pairs: AperioPair[];
}

export function isAperioDescription(desc: string | undefined): boolean {
  return desc !== undefined && desc.startsWith('Aperio');
}

export function parseAperioDescription(desc: string): AperioDescription {
  const parts = desc.split('|');
  const header = parts[0] ?? '';
  const segments = header.split(';').map((text, i) => ({
    text,
    structural: i === 0 || text.trimStart().startsWith('Aperio Image Library'),
  }));
  const pairs: AperioPair[] = [];
  for (const raw of parts.slice(1)) {
    const eq = raw.indexOf('=');
    // OpenSlide splits on the first "="; a piece without one is kept as a key with empty value.
    const key = (eq < 0 ? raw : raw.slice(0, eq)).trim();
    const value = eq < 0 ? '' : raw.slice(eq + 1).trim();
    pairs.push({ key, value, raw });
  }
  return { segments, pairs };
}

/** Rebuild the description from the kept parts, in their original order and spelling. */
export function buildAperioDescription(d: AperioDescription, keepSegment: (i: number) => boolean, keepPair: (i: number) => boolean): string {
  const header = d.segments.filter((_, i) => keepSegment(i)).map((s) => s.text).join(';');
  const pairs = d.pairs.filter((_, i) => keepPair(i)).map((p) => `|${p.raw}`).join('');
  return header + pairs;
}

/** Second line of the header: "label 387x463", "macro 1280x431", or the level geometry. */
export function aperioSubtype(desc: string): string | undefined {
  const line = desc.split(/\r?\n/)[1];
  return line?.trim().split(/\s+/)[0]?.toLowerCase();
}

type Klass = 'phi' | 'critical' | 'neutral';

/** Keys whose value is a number (MPP, AppMag, offsets, exposure, calibration…). */
const NUMERIC_KEYS = new Set([
  'mpp', 'appmag', 'originalwidth', 'originalheight', 'stripewidth', 'left', 'top', 'linecameraskew',
  'lineareaxoffset', 'lineareayoffset', 'focus offset', 'exposure time', 'exposure scale', 'displaycolor',
  'gamma', 'bestfocuslayer', 'calibrationaveragered', 'calibrationaveragegreen', 'calibrationaverageblue',
  'filtered', 'converterepoch',
]);
/** Keys whose value is a short setting or version token (scanner type, converter version…). */
const TOKEN_KEYS = new Set([
  'icc profile', 'parmset', 'scannertype', 'sessionmode', 'sessonmode', 'scan warning', 'converter',
  'converterversion', 'compressedfile', 'bigtiff',
]);
const CRITICAL = new Set(['mpp', 'appmag', 'icc profile', 'originalwidth', 'originalheight']);
const PHI = new Set([
  'filename', 'title', 'imageid', 'user', 'date', 'time', 'time zone', 'scanscope id', 'dsr id', 'scanner id',
  'barcode', 'rack', 'slide', 'patient', 'accession', 'webslide files', 'copyright',
]);

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
/** A setting: letters, digits and a little punctuation, no longer than a version string gets. */
const TOKEN = /^[A-Za-z0-9 ._\-+/():,]{0,48}$/;

/**
 * Class of an Aperio key (reference table) and, for kept classes, of its value: a key on the
 * allowlist is kept only when its value has the shape the key implies (a number, or a short
 * setting) — "Gamma = 2.2 J. Smith" is identifying. Unknown keys are identifying until proven
 * otherwise.
 */
export function classifyAperioKey(key: string, value?: string): { class: Klass; reason: string } {
  const k = key.toLowerCase().replace(/\s+/g, ' ');
  if (PHI.has(k)) return { class: 'phi', reason: 'Aperio key listed as identifying' };
  if (k.startsWith('customfield.')) return { class: 'phi', reason: 'Aperio custom field (LIS data)' };
  const numeric = NUMERIC_KEYS.has(k);
  if (!numeric && !TOKEN_KEYS.has(k)) return { class: 'phi', reason: 'unknown Aperio key: treated as identifying' };
  if (value !== undefined && value !== '' && !(numeric ? NUMBER : TOKEN).test(value)) {
    return { class: 'phi', reason: `value is not ${numeric ? 'a number' : 'a short setting'}: treated as identifying` };
  }
  return CRITICAL.has(k) ? { class: 'critical', reason: 'needed to read the slide correctly' } : { class: 'neutral', reason: 'scanner setting' };
}
