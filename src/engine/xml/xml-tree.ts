import { SlideError } from '../../shared/errors.ts';

/**
 * A small strict XML parser for the vendor metadata inside slides (Leica SCN, Philips, OME-XML,
 * Ventana XMP). Workers have no DOMParser and Node has none, and de-identification needs what a
 * DOM does not give: the exact span of every element and attribute in the source, so a rebuild
 * can CUT identifying pieces out of the original text (never re-serialise it: the result is then
 * always shorter and fits in place, and every byte kept is a byte the vendor wrote).
 *
 * Offsets are UTF-16 code unit offsets into the source string; callers parse a latin-1 string
 * (one char per byte), so offsets are byte offsets and UTF-8 text survives a cut unchanged.
 * DOCTYPE/ENTITY declarations are refused (entity expansion could hide or multiply text).
 */

export interface XmlSpan {
  start: number;
  end: number;
}

/** `span` covers ` name="value"` including the whitespace before it; `value` is decoded. */
export interface XmlAttribute extends XmlSpan {
  name: string;
  value: string;
}

export interface XmlElement extends XmlSpan {
  kind: 'element';
  name: string;
  attributes: XmlAttribute[];
  children: XmlNode[];
  parent?: XmlElement;
}

/** Character data (CDATA sections included), decoded. */
export interface XmlText extends XmlSpan {
  kind: 'text';
  text: string;
}

export interface XmlOther extends XmlSpan {
  kind: 'comment' | 'pi';
}

export type XmlNode = XmlElement | XmlText | XmlOther;

export interface XmlDocument {
  source: string;
  /** XML declaration, comments, PIs and whitespace before the root element. */
  prolog: XmlNode[];
  root: XmlElement;
  epilog: XmlNode[];
}

/** Real vendor XML nests a few levels; this bounds recursion on hostile input. */
const MAX_DEPTH = 256;
const NAME = /[A-Za-z_:\u00C0-\uFFFF][-A-Za-z0-9_:.\u00B7\u00C0-\uFFFF]*/y;

class Parser {
  pos = 0;
  constructor(readonly s: string, readonly what: string) {}

  /** `problem` never quotes the document: a malformed name or value may be identifying text. */
  fail(problem: string): never {
    throw new SlideError('CORRUPT', `${this.what} is not well-formed XML (${problem} at character ${this.pos})`);
  }

  startsWith(t: string): boolean {
    return this.s.startsWith(t, this.pos);
  }

  skipSpace(): void {
    while (this.pos < this.s.length && /[ \t\r\n]/.test(this.s[this.pos]!)) this.pos++;
  }

  name(): string {
    NAME.lastIndex = this.pos;
    const m = NAME.exec(this.s);
    if (!m) this.fail('a name was expected');
    this.pos += m[0].length;
    return m[0];
  }

  until(t: string, what: string): number {
    const i = this.s.indexOf(t, this.pos);
    if (i < 0) this.fail(`unterminated ${what}`);
    return i;
  }

  /** Comment, PI, CDATA or text node at pos (not an element); undefined if an element/end tag starts here. */
  misc(allowText: boolean): XmlNode | undefined {
    const start = this.pos;
    if (this.startsWith('<!--')) {
      const end = this.until('-->', 'comment') + 3;
      this.pos = end;
      return { kind: 'comment', start, end };
    }
    if (this.startsWith('<?')) {
      const end = this.until('?>', 'processing instruction') + 2;
      this.pos = end;
      return { kind: 'pi', start, end };
    }
    if (this.startsWith('<!DOCTYPE') || this.startsWith('<!ENTITY')) {
      throw new SlideError('UNSUPPORTED', `${this.what} declares a DOCTYPE or entities, which are not accepted in slide metadata`);
    }
    if (this.startsWith('<![CDATA[')) {
      if (!allowText) this.fail('character data outside the root element');
      const close = this.until(']]>', 'CDATA section');
      const text = this.s.slice(start + 9, close);
      this.pos = close + 3;
      return { kind: 'text', text, start, end: this.pos };
    }
    if (this.startsWith('<')) return undefined;
    let end = this.s.indexOf('<', this.pos);
    if (end < 0) end = this.s.length;
    const raw = this.s.slice(start, end);
    if (!allowText && raw.trim() !== '') this.fail('text outside the root element');
    this.pos = end;
    return { kind: 'text', text: decodeEntities(raw, this), start, end };
  }

  element(parent: XmlElement | undefined, depth: number): XmlElement {
    if (depth > MAX_DEPTH) this.fail('elements nested too deeply');
    const start = this.pos;
    this.pos++; // '<'
    const name = this.name();
    const el: XmlElement = { kind: 'element', name, attributes: [], children: [], start, end: start };
    if (parent) el.parent = parent;
    for (;;) {
      const attrStart = this.pos;
      this.skipSpace();
      if (this.startsWith('/>')) {
        this.pos += 2;
        el.end = this.pos;
        return el;
      }
      if (this.startsWith('>')) {
        this.pos++;
        break;
      }
      if (this.pos === attrStart) this.fail('whitespace was expected between attributes');
      const attrName = this.name();
      this.skipSpace();
      if (!this.startsWith('=')) this.fail('"=" was expected after an attribute name');
      this.pos++;
      this.skipSpace();
      const quote = this.s[this.pos];
      if (quote !== '"' && quote !== "'") this.fail('a quoted attribute value was expected');
      this.pos++;
      const close = this.until(quote, 'attribute value');
      const raw = this.s.slice(this.pos, close);
      if (raw.includes('<')) this.fail('"<" inside an attribute value');
      this.pos = close + 1;
      if (el.attributes.some((a) => a.name === attrName)) this.fail('an attribute is repeated');
      el.attributes.push({ name: attrName, value: decodeEntities(raw, this), start: attrStart, end: this.pos });
    }
    for (;;) {
      if (this.pos >= this.s.length) this.fail('an element is not closed');
      const node = this.misc(true);
      if (node) {
        el.children.push(node);
        continue;
      }
      if (this.startsWith('</')) {
        this.pos += 2;
        const closing = this.name();
        if (closing !== name) this.fail('an end tag does not match its start tag');
        this.skipSpace();
        if (!this.startsWith('>')) this.fail('">" was expected');
        this.pos++;
        el.end = this.pos;
        return el;
      }
      el.children.push(this.element(el, depth + 1));
    }
  }
}

const ENTITY = /&(#x[0-9A-Fa-f]+|#[0-9]+|amp|lt|gt|quot|apos);|&/g;

function decodeEntities(raw: string, p: Parser): string {
  if (!raw.includes('&')) return raw;
  return raw.replace(ENTITY, (_m, name: string | undefined) => {
    if (!name) p.fail('an unescaped "&"');
    switch (name) {
      case 'amp': return '&';
      case 'lt': return '<';
      case 'gt': return '>';
      case 'quot': return '"';
      case 'apos': return "'";
    }
    const code = name.startsWith('#x') ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
    if (!(code > 0 && code <= 0x10ffff)) p.fail('an invalid character reference');
    return String.fromCodePoint(code);
  });
}

/** Strict parse; `what` names the text in errors ("the Leica XML"). */
export function parseXml(source: string, what: string): XmlDocument {
  const p = new Parser(source, what);
  // A UTF-8 byte order mark read as latin-1.
  if (p.startsWith('\u00EF\u00BB\u00BF') || p.startsWith('\uFEFF')) p.pos = p.s[0] === '\uFEFF' ? 1 : 3;
  const prolog: XmlNode[] = [];
  for (;;) {
    if (p.pos >= source.length) p.fail('no root element');
    const node = p.misc(false);
    if (!node) break;
    prolog.push(node);
  }
  if (p.startsWith('</')) p.fail('an end tag without a start tag');
  const root = p.element(undefined, 0);
  const epilog: XmlNode[] = [];
  while (p.pos < source.length) {
    // Vendors pad descriptions with NULs or spaces after the document.
    if (source[p.pos] === '\0') break;
    const node = p.misc(false);
    if (!node) return p.fail('a second root element');
    epilog.push(node);
  }
  for (let i = p.pos; i < source.length; i++) if (source[i] !== '\0') p.fail('text after the document');
  return { source, prolog, root, epilog };
}

/** The source with the given spans removed (overlapping or nested spans merged): never longer. */
export function cutSpans(source: string, spans: readonly XmlSpan[]): string {
  const sorted = [...spans].filter((s) => s.end > s.start).sort((a, b) => a.start - b.start);
  let out = '';
  let at = 0;
  for (const s of sorted) {
    if (s.end <= at) continue;
    if (s.start > at) out += source.slice(at, s.start);
    at = Math.max(at, s.end);
  }
  return out + source.slice(at);
}

export function localName(qname: string): string {
  const i = qname.indexOf(':');
  return i < 0 ? qname : qname.slice(i + 1);
}

/** Direct child elements, optionally only those with this local name. */
export function elements(parent: XmlElement, name?: string): XmlElement[] {
  const out: XmlElement[] = [];
  for (const c of parent.children) if (c.kind === 'element' && (name === undefined || localName(c.name) === name)) out.push(c);
  return out;
}

/** The element's direct character data, concatenated. */
export function textOf(e: XmlElement): string {
  let t = '';
  for (const c of e.children) if (c.kind === 'text') t += c.text;
  return t;
}

/** An attribute's decoded value, by qualified or local name. */
export function attr(e: XmlElement, name: string): string | undefined {
  return (e.attributes.find((a) => a.name === name) ?? e.attributes.find((a) => localName(a.name) === name))?.value;
}
