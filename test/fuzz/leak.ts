/**
 * The leak check: the raw output bytes are searched for every identifying string of the seed, in
 * every encoding a file can hold text in (ASCII/Latin-1, UTF-16LE, UTF-16BE). Findings carry the
 * string's index, never the string, so test output and logs stay free of the values.
 */
export type Encoding = 'latin1' | 'utf16le' | 'utf16be';

export interface LeakHit {
  /** Index of the string in the seed's identifying list. */
  index: number;
  encoding: Encoding;
  file: string;
  offset: number;
}

export interface Needle {
  index: number;
  value: string;
}

function encodings(value: string): [Encoding, Buffer][] {
  const le = Buffer.from(value, 'utf16le');
  const be = Buffer.from(le);
  be.swap16();
  return [['latin1', Buffer.from(value, 'latin1')], ['utf16le', le], ['utf16be', be]];
}

/**
 * A digit-only value found wholly inside a digits-and-dots run that looks like a DICOM UID and is
 * not in the input: the engine generated that UID, so the digits are there by chance (the engine's
 * sweep exempts the same). Anything else is a leak.
 */
function insideFreshUid(out: Buffer, at: number, len: number, input: readonly Buffer[]): boolean {
  const isUidChar = (c: number | undefined) => c !== undefined && ((c >= 0x30 && c <= 0x39) || c === 0x2e);
  let s = at;
  let e = at + len;
  while (s > 0 && isUidChar(out[s - 1])) s--;
  while (e < out.length && isUidChar(out[e])) e++;
  const run = out.subarray(s, e);
  if (run.length < 16 || run.filter((c) => c === 0x2e).length < 2) return false;
  return !input.some((b) => b.includes(run));
}

/** Every hit of every needle in one output file (first hit per needle and encoding). */
export function findLeaks(file: string, out: Buffer, needles: readonly Needle[], input: readonly Buffer[]): LeakHit[] {
  const hits: LeakHit[] = [];
  for (const n of needles) {
    const digits = /^[0-9]+$/.test(n.value);
    for (const [encoding, bytes] of encodings(n.value)) {
      let from = 0;
      for (;;) {
        const at = out.indexOf(bytes, from);
        if (at < 0) break;
        if (!(digits && encoding === 'latin1' && insideFreshUid(out, at, bytes.length, input))) {
          hits.push({ index: n.index, encoding, file, offset: at });
          break;
        }
        from = at + 1;
      }
    }
  }
  return hits;
}

/** Does a refusal's text (message, detail) repeat an identifying value? Errors reach logs and screens. */
export function leaksInText(text: string, needles: readonly Needle[]): number[] {
  return needles.filter((n) => text.includes(n.value)).map((n) => n.index);
}
