/**
 * Text mutations for the structured texts vendors hide in TIFF values (XML in ImageDescription and
 * XMP: Leica SCN, Ventana BIF, Philips, OME; `Key=Value` lines in NDPI/Aperio texts) and for
 * MIRAX's Slidedat.ini. Byte-blind mutators rarely keep such a text parseable; these do, and they
 * aim at the de-identification: an identifying value moved into another element, attribute or key,
 * an element duplicated (first or last one wins?), a comment/CDATA/entity/PI wrapped round a value,
 * an element renamed. Each returns the new text and what it did (`why`, no values).
 */
import type { Prng } from './prng.ts';

export interface TextEdit {
  text: string;
  why: string;
}

/** A value to plant: one of the seed's identifying strings (so a leak is seen), else a marker. */
function plantValue(rng: Prng, identifying: readonly string[]): string {
  const usable = identifying.filter((v) => v.length >= 5 && !/[<>&"]/.test(v));
  return usable.length > 0 ? rng.pick(usable) : 'FUZZ-PLANTED-VALUE';
}

interface Element {
  name: string;
  start: number;
  /** End of the whole element (after its end tag or '/>'). */
  end: number;
  /** End of the start tag. */
  openEnd: number;
}

/** Elements of a document, found by a forgiving scan (enough for mutation, not a parser). */
function elements(text: string, limit = 2000): Element[] {
  const out: Element[] = [];
  const re = /<([A-Za-z_][\w.:-]*)((?:\s+[^<>]*?)?)(\/?)>/g;
  for (let m = re.exec(text); m && out.length < limit; m = re.exec(text)) {
    const name = m[1]!;
    const start = m.index;
    const openEnd = start + m[0].length;
    if (m[3] === '/') {
      out.push({ name, start, end: openEnd, openEnd });
      continue;
    }
    // The nearest end tag of that name after a balanced run of same-named starts.
    let depth = 1;
    const tagRe = new RegExp(`<(/?)${name.replace(/[.]/g, '\\.')}(?=[\\s/>])[^>]*?(/?)>`, 'g');
    tagRe.lastIndex = openEnd;
    let end = -1;
    for (let t = tagRe.exec(text); t; t = tagRe.exec(text)) {
      if (t[1] === '/') depth--;
      else if (t[2] !== '/') depth++;
      if (depth === 0) {
        end = t.index + t[0].length;
        break;
      }
    }
    if (end > 0) out.push({ name, start, end, openEnd });
  }
  return out;
}

/** Attribute values: [start, end) of the value between its quotes, and the attribute name. */
function attributes(text: string): { name: string; start: number; end: number }[] {
  const out: { name: string; start: number; end: number }[] = [];
  const re = /\s([A-Za-z_][\w.:-]*)\s*=\s*(["'])([^"'<>]*)\2/g;
  for (let m = re.exec(text); m && out.length < 4000; m = re.exec(text)) {
    const valueStart = m.index + m[0].length - 1 - m[3]!.length;
    out.push({ name: m[1]!, start: valueStart, end: valueStart + m[3]!.length });
  }
  return out;
}

/** Text nodes (between '>' and '<', non-blank). */
function textNodes(text: string): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  const re = />([^<>]*[^<>\s][^<>]*)</g;
  for (let m = re.exec(text); m && out.length < 4000; m = re.exec(text)) out.push({ start: m.index + 1, end: m.index + 1 + m[1]!.length });
  return out;
}

const splice = (s: string, start: number, end: number, insert: string) => s.slice(0, start) + insert + s.slice(end);

/** Prefer spans that hold an identifying value (that is what de-identification must handle). */
function pickSpan<T extends { start: number; end: number }>(rng: Prng, text: string, spans: T[], identifying: readonly string[]): T | undefined {
  if (spans.length === 0) return undefined;
  if (rng.chance(0.6)) {
    const phi = spans.filter((s) => identifying.some((v) => v.length >= 5 && text.slice(s.start, s.end).includes(v)));
    if (phi.length > 0) return rng.pick(phi);
  }
  return rng.pick(spans);
}

export function looksLikeXml(text: string): boolean {
  return /<[A-Za-z?!]/.test(text) && text.includes('>');
}

/** One XML mutation of `text`, or undefined when nothing applies. */
export function mutateXml(rng: Prng, text: string, identifying: readonly string[]): TextEdit | undefined {
  const els = elements(text);
  const attrs = attributes(text);
  const texts = textNodes(text);
  const value = plantValue(rng, identifying);
  const kind = rng.weighted([
    ['dup-element', 4], ['value-to-attr', 4], ['value-to-text', 4], ['comment', 2], ['cdata', 2], ['entity', 2],
    ['pi', 1], ['doctype', 1], ['rename-element', 2], ['new-attr', 3], ['drop-element', 2], ['swap-elements', 2],
    ['char-ref', 1], ['namespace', 1],
  ] as const);
  switch (kind) {
    case 'dup-element': {
      const e = pickSpan(rng, text, els.filter((x) => x.start > 0), identifying);
      if (!e) return undefined;
      const copy = text.slice(e.start, e.end);
      return rng.chance(0.5) ? { text: splice(text, e.end, e.end, copy), why: `element ${e.name} duplicated after itself` } : { text: splice(text, e.start, e.start, copy), why: `element ${e.name} duplicated before itself` };
    }
    case 'value-to-attr': {
      const a = rng.pick(attrs.length > 0 ? attrs : [undefined]);
      if (!a) return undefined;
      return { text: splice(text, a.start, a.end, value), why: `identifying value moved into attribute ${a.name}` };
    }
    case 'value-to-text': {
      const t = rng.pick(texts.length > 0 ? texts : [undefined]);
      if (!t) return undefined;
      return { text: splice(text, t.start, t.end, rng.chance(0.5) ? value : `${text.slice(t.start, t.end)} ${value}`), why: 'identifying value moved into a text node' };
    }
    case 'comment':
    case 'cdata':
    case 'entity':
    case 'pi': {
      const t = pickSpan(rng, text, texts, identifying);
      const at = t ? (rng.chance(0.5) ? t.start : t.end) : (els[0]?.openEnd ?? -1);
      if (at < 0) return undefined;
      const piece = kind === 'comment' ? `<!-- ${value} -->` : kind === 'cdata' ? `<![CDATA[${value}]]>` : kind === 'entity' ? rng.pick(['&amp;', '&lt;', '&#65;', '&#x42;', '&undefined;', '&#0;', '&#x110000;']) : `<?fuzz ${value}?>`;
      return { text: splice(text, at, at, piece), why: `${kind} injected in a text node` };
    }
    case 'doctype': {
      const root = els[0];
      if (!root) return undefined;
      return { text: splice(text, root.start, root.start, `<!DOCTYPE ${root.name} [<!ENTITY e "${value}">]>`), why: 'DOCTYPE with an entity before the root' };
    }
    case 'rename-element': {
      const e = pickSpan(rng, text, els.filter((x) => x.start > 0), identifying);
      if (!e) return undefined;
      const other = rng.chance(0.5) && els.length > 1 ? rng.pick(els).name : rng.pick(['Unknown', 'x:Extra', 'Description', 'Name', 'Attribute', 'image']);
      const inner = text.slice(e.start, e.end);
      const renamed = inner.replace(new RegExp(`^<${e.name}`), `<${other}`).replace(new RegExp(`</${e.name}>$`), `</${other}>`);
      return { text: splice(text, e.start, e.end, renamed), why: `element ${e.name} renamed to ${other}` };
    }
    case 'new-attr': {
      const e = pickSpan(rng, text, els, identifying);
      if (!e) return undefined;
      const name = rng.chance(0.5) && attrs.length > 0 ? rng.pick(attrs).name : rng.pick(['Name', 'name', 'Value', 'Description', 'Comment', 'id', 'x']);
      const at = text[e.openEnd - 2] === '/' ? e.openEnd - 2 : e.openEnd - 1;
      return { text: splice(text, at, at, ` ${name}="${value}"`), why: `attribute ${name} added to ${e.name}` };
    }
    case 'drop-element': {
      const e = pickSpan(rng, text, els.filter((x) => x.start > 0), identifying);
      if (!e) return undefined;
      return { text: splice(text, e.start, e.end, ''), why: `element ${e.name} removed` };
    }
    case 'swap-elements': {
      const cand = els.filter((x) => x.start > 0);
      if (cand.length < 2) return undefined;
      const a = rng.pick(cand);
      const apart = cand.filter((x) => x.end <= a.start || x.start >= a.end);
      if (apart.length === 0) return undefined;
      const b = rng.pick(apart);
      const [p, q] = a.start < b.start ? [a, b] : [b, a];
      const t = text.slice(0, p.start) + text.slice(q.start, q.end) + text.slice(p.end, q.start) + text.slice(p.start, p.end) + text.slice(q.end);
      return { text: t, why: `elements ${p.name} and ${q.name} swapped` };
    }
    case 'char-ref': {
      // The value spelt with a character reference: a driver that decodes must still remove it.
      const t = pickSpan(rng, text, texts, identifying);
      if (!t) return undefined;
      const v = `&#${value.charCodeAt(0)};${value.slice(1)}`;
      return { text: splice(text, t.start, t.end, v), why: 'identifying value written with a character reference' };
    }
    case 'namespace': {
      const m = /xmlns(:\w+)?=(["'])([^"']*)\2/.exec(text);
      if (!m) return undefined;
      const to = rng.pick(['', 'urn:fuzz', `${m[3]}/x`, m[3]!.toUpperCase()]);
      return { text: splice(text, m.index, m.index + m[0].length, `xmlns${m[1] ?? ''}="${to}"`), why: 'namespace changed' };
    }
  }
}

/** One mutation of `Key=Value` lines (NDPI properties, MIRAX Slidedat.ini, Aperio's `|` list). */
export function mutateKeyValues(rng: Prng, text: string, identifying: readonly string[]): TextEdit | undefined {
  const lines: { start: number; end: number; key: string; valueStart: number }[] = [];
  const re = /^[ \t]*([^=\r\n[|]+?)[ \t]*=[ \t]*([^\r\n|]*)/gm;
  for (let m = re.exec(text); m && lines.length < 4000; m = re.exec(text)) {
    lines.push({ start: m.index, end: m.index + m[0].length, key: m[1]!, valueStart: m.index + m[0].length - m[2]!.length });
  }
  if (lines.length === 0) return undefined;
  const value = plantValue(rng, identifying);
  const kind = rng.weighted([['value-to-key', 5], ['dup-line', 3], ['drop-line', 2], ['number', 4], ['rename-key', 2], ['section', 2]] as const);
  const l = pickSpan(rng, text, lines, identifying)!;
  switch (kind) {
    case 'value-to-key': {
      const to = rng.pick(lines);
      return { text: splice(text, to.valueStart, to.end, value), why: `identifying value moved into key ${to.key}` };
    }
    case 'dup-line': {
      const line = text.slice(l.start, l.end);
      const other = rng.pick(lines);
      return { text: splice(text, other.end, other.end, `\r\n${line}`), why: `line ${l.key} duplicated after ${other.key}` };
    }
    case 'drop-line':
      return { text: splice(text, l.start, Math.min(text.length, l.end + (text[l.end] === '\r' ? 2 : 1)), ''), why: `line ${l.key} removed` };
    case 'number': {
      const nums = lines.filter((x) => /^-?\d+(\.\d+)?$/.test(text.slice(x.valueStart, x.end).trim()));
      const n = nums.length > 0 ? rng.pick(nums) : l;
      const to = rng.pick(['0', '-1', '1', '2147483647', '2147483648', '4294967296', '-2147483648', '99999999999', '1e308', 'NaN', '', '0x10', '3.5', '65536']);
      return { text: splice(text, n.valueStart, n.end, to), why: `key ${n.key} value -> ${to}` };
    }
    case 'rename-key': {
      const other = rng.pick(lines).key;
      return { text: splice(text, l.start, l.valueStart, `${other} = `), why: `key ${l.key} renamed to ${other}` };
    }
    case 'section': {
      const secs = [...text.matchAll(/^\[([^\]\r\n]*)\]/gm)];
      if (secs.length === 0) return undefined;
      const s = rng.pick(secs);
      const to = rng.chance(0.5) ? rng.pick(secs)[1]! : `${s[1]}_X`;
      return { text: splice(text, s.index!, s.index! + s[0].length, `[${to}]`), why: `section ${s[1]} renamed to ${to}` };
    }
  }
}

/** The smallest delete+insert that turns `a` into `b` (common prefix and suffix kept). */
export function diffSpan(a: Uint8Array, b: Uint8Array): { at: number; deleteLen: number; insert: Uint8Array } {
  let p = 0;
  while (p < a.length && p < b.length && a[p] === b[p]) p++;
  let s = 0;
  while (s < a.length - p && s < b.length - p && a[a.length - 1 - s] === b[b.length - 1 - s]) s++;
  return { at: p, deleteLen: a.length - p - s, insert: b.subarray(p, b.length - s) };
}
