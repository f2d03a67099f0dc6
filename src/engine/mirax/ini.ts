import { SlideError } from '../../shared/errors.ts';

/**
 * Slidedat.ini as OpenSlide reads it (GLib's key file): `[GROUP]` lines, `KEY = VALUE` lines,
 * `#` comments, blank lines; whitespace around keys and values is not part of them. MIRAX writes
 * it with CRLF. Anything else on a line (no `=`, a key before the first group) is refused, as
 * GLib refuses it; a key given twice in one group is refused too (GLib keeps the last one, and we
 * would rather not guess which copy a reader uses).
 */
export interface IniFile {
  /** Groups in file order; keys in file order within each group. */
  groups: Map<string, Map<string, string>>;
}

/** OpenSlide refuses a Slidedat.ini larger than this. */
export const SLIDEDAT_MAX_SIZE = 1 << 20;

export function parseIni(bytes: Uint8Array, fileName: string): IniFile {
  if (bytes.length > SLIDEDAT_MAX_SIZE) throw new SlideError('UNSUPPORTED', `${fileName} is larger than 1 MiB`);
  let text = new TextDecoder('utf-8').decode(bytes);
  if (text.startsWith('\ufeff')) text = text.slice(1);
  const groups = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.replace(/\r$/, '');
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    if (t.startsWith('[')) {
      if (!t.endsWith(']')) throw new SlideError('CORRUPT', `${fileName} line ${n + 1} is not a section header`);
      const name = t.slice(1, -1);
      if (groups.has(name)) throw new SlideError('UNSUPPORTED', `${fileName} repeats a section (line ${n + 1})`);
      current = new Map();
      groups.set(name, current);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) throw new SlideError('CORRUPT', `${fileName} line ${n + 1} is neither a section nor a key`);
    if (!current) throw new SlideError('CORRUPT', `${fileName} has a key before its first section`);
    const key = line.slice(0, eq).trim();
    if (key === '') throw new SlideError('CORRUPT', `${fileName} line ${n + 1} has an empty key`);
    if (current.has(key)) throw new SlideError('UNSUPPORTED', `${fileName} repeats a key in one section (line ${n + 1})`);
    current.set(key, line.slice(eq + 1).trim());
  }
  return { groups };
}

export function iniValue(ini: IniFile, group: string, key: string): string | undefined {
  return ini.groups.get(group)?.get(key);
}

/** Serialise groups of key/value pairs the way MIRAX writes them (CRLF, `KEY = VALUE`). */
export function serializeIni(groups: readonly { name: string; entries: readonly [string, string][] }[]): Uint8Array {
  let s = '';
  for (const g of groups) {
    s += `[${g.name}]\r\n`;
    for (const [k, v] of g.entries) s += `${k} = ${v}\r\n`;
  }
  return new TextEncoder().encode(s);
}

const INTEGER = /^[-+]?\d+$/;
const DOUBLE = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

export function isInteger(v: string): boolean {
  return INTEGER.test(v);
}

export function isNumber(v: string): boolean {
  return DOUBLE.test(v);
}
