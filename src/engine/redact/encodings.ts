import { latin1 } from '../../shared/bytes.ts';

/**
 * The byte forms an identifying value can take inside a file, for the PHI sweep: as read
 * (ASCII / Latin-1), re-encoded as UTF-8 when it has non-ASCII characters, as UTF-16LE and
 * UTF-16BE (Windows tools, XMP, EXIF UserComment), and as base64 (vendors that store XML or
 * properties base64-encoded). A value inside a longer base64 text can start at any of three byte
 * alignments, so each alignment contributes the run of characters that depends on the value's
 * bytes alone.
 */
export function encodedForms(value: Uint8Array): Uint8Array[] {
  const text = latin1(value);
  const forms = [value];
  if (value.some((b) => b >= 0x80)) forms.push(new TextEncoder().encode(text));
  forms.push(utf16(text, true), utf16(text, false));
  for (let shift = 0; shift < 3; shift++) forms.push(base64Core(value, shift));
  // A value read out of XML (decoded) sits in the file escaped: "Smith&amp;Sons".
  if (/[&<>"']/.test(text)) forms.push(Uint8Array.from(xmlEscaped(text), (c) => c.charCodeAt(0) & 0xff));
  return forms.filter((f) => f.length > 0);
}

function xmlEscaped(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/**
 * The identifying pieces of a structured value, each searched on its own: a vendor XML block or a
 * "key=value;…" property list can be copied, cut or moved in part, and a piece found anywhere in
 * the output is as much a leak as the whole. Pieces are text nodes and quoted attribute values of
 * markup, the parts between separators (| ; tab, line breaks, NUL) and the value side of
 * "key=value"; markup and key names themselves are not searched (they are vocabulary, not data).
 */
export function valuePieces(value: Uint8Array): Uint8Array[] {
  const text = latin1(value);
  const pieces = new Set<string>();
  for (const m of text.matchAll(/"([^"<>]*)"|'([^'<>]*)'/g)) pieces.add((m[1] ?? m[2] ?? '').trim());
  // "urn:uuid:5d1e…" (OME, XMP): the identifier is also written without its URN prefix.
  for (const m of text.matchAll(/\burn:[A-Za-z0-9][A-Za-z0-9-]*:([^\s"'<>]+)/g)) pieces.add(m[1]!);
  for (const part of text.replace(/<[^>]*>/g, '\n').split(/[|;\t\r\n\0]+/)) {
    const p = part.trim();
    pieces.add(p);
    const eq = p.indexOf('=');
    if (eq >= 0) pieces.add(p.slice(eq + 1).trim().replace(/^["']|["']$/g, ''));
  }
  pieces.delete(text);
  return [...pieces].filter((p) => p.length >= 5).map((p) => Uint8Array.from(p, (c) => c.charCodeAt(0)));
}



/** Every encoded form of every value and of its pieces (and of the exact values), without duplicates. */
export function sweepPatterns(values: Uint8Array[], exact: Uint8Array[] = []): Uint8Array[] {
  const seen = new Set<string>();
  const out: Uint8Array[] = [];
  for (const v of [...values.flatMap((x) => [x, ...valuePieces(x)]), ...exact]) {
    for (const f of encodedForms(v)) {
      const key = latin1(f);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(f);
    }
  }
  return out;
}

function utf16(text: string, littleEndian: boolean): Uint8Array {
  const out = new Uint8Array(text.length * 2);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < text.length; i++) dv.setUint16(i * 2, text.charCodeAt(i), littleEndian);
  return out;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * The base64 characters of `value` preceded by `shift` unknown bytes, keeping only characters
 * whose 6 bits all come from the value: the first characters of the group it starts in and the
 * last of the group it ends in mix in neighbouring bytes.
 */
export function base64Core(value: Uint8Array, shift: number): Uint8Array {
  const bytes = new Uint8Array(shift + value.length);
  bytes.set(value, shift);
  const chars: number[] = [];
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    for (let k = 0; k < 4; k++) chars.push(B64.charCodeAt((n >> (18 - 6 * k)) & 63));
  }
  // Characters 0..start-1 hold bits of the unknown leading bytes.
  const start = [0, 2, 3][shift]!;
  // Character c covers bits 6c..6c+5; it is the value's alone if those bits end within the data.
  const end = Math.floor((bytes.length * 8) / 6);
  return Uint8Array.from(chars.slice(start, end));
}

/**
 * Runs of text at least `min` long in a block of bytes the output will not hold: text left behind
 * by other tools (an old description an in-place editor orphaned, a vendor block whose tag was
 * dropped). What it said may also have been copied into data that stays, so it is swept too.
 * Binary tables that happen to be printable are not text: JPEG Huffman symbol lists (strictly
 * increasing bytes, e.g. "%&'()*456789:CDEF…") and quantisation tables (mostly punctuation) occur
 * in every kept JPEGTables and would fail good files; `looksLikeText` leaves them out.
 */
export function printableRuns(bytes: Uint8Array, min = 12): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = -1;
  for (let i = 0; i <= bytes.length; i++) {
    const b = i < bytes.length ? bytes[i]! : 0;
    const printable = (b >= 0x20 && b < 0x7f) || b >= 0xa0 || b === 0x09;
    if (printable) {
      if (start < 0) start = i;
    } else if (start >= 0) {
      if (i - start >= min && looksLikeText(bytes.subarray(start, i))) out.push(bytes.slice(start, i));
      start = -1;
    }
  }
  return out;
}

/** Mostly letters, digits and spaces, some letters, and not a (mostly) sorted byte table. */
export function looksLikeText(run: Uint8Array): boolean {
  let words = 0;
  let letters = 0;
  let rises = 0;
  for (let i = 0; i < run.length; i++) {
    const b = run[i]!;
    const letter = (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b >= 0xc0;
    if (letter) letters++;
    if (letter || (b >= 0x30 && b <= 0x39) || b === 0x20) words++;
    if (i > 0 && b > run[i - 1]!) rises++;
  }
  // Text rises about half the time from one character to the next; a sorted table nearly always.
  return rises < 0.8 * (run.length - 1) && letters >= 3 && words >= 0.6 * run.length;
}

/** Word runs searched inside free text: a name is often a few words of a longer comment. */
const WINDOW_WORDS = [1, 6];
const WINDOW_MIN_CHARS = 12;
const MAX_WINDOWS = 128;

/**
 * The sweep values of removed FREE TEXT (a comment, stray text in vendor XML): the text, and its
 * runs of 1–6 consecutive words of at least 12 characters — "scanned by Dr A Person" is also
 * searched as "Dr A Person", "exported for ACC-2024-0042-XY" as "ACC-2024-0042-XY" — so a name or
 * identifier copied out of a removed comment into kept data is found.
 * Only for free text: applied to every removed value (coded vocabulary such as "DICOM Controlled
 * Terminology" recurs in kept attributes) it would fail good files. At most 128 runs per text.
 */
export function freeTextRuns(text: string): string[] {
  const t = text.trim();
  return t === '' ? [] : [t, ...wordWindows(t)];
}

function wordWindows(piece: string): string[] {
  const words = [...piece.matchAll(/\S+/g)];
  if (words.length < 2) return [];
  const out: string[] = [];
  for (let i = 0; i < words.length && out.length < MAX_WINDOWS; i++) {
    for (let n = WINDOW_WORDS[0]!; n <= WINDOW_WORDS[1]! && i + n <= words.length; n++) {
      const first = words[i]!;
      const last = words[i + n - 1]!;
      const run = piece.slice(first.index, last.index + last[0].length);
      if (run.length >= WINDOW_MIN_CHARS && run !== piece) out.push(run);
    }
  }
  return out.slice(0, MAX_WINDOWS);
}
