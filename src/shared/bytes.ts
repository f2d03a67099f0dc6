/** One new array holding the chunks back to back. */
export function concatBytes(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The non-empty values, each once (byte equality), in first-seen order. */
export function uniqueBytes(values: Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const v of values) if (v.length > 0 && !out.some((x) => sameBytes(x, v))) out.push(v);
  return out;
}

/** Latin-1 text of bytes (one character per byte, so string index == byte index). */
export function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
  return s;
}
