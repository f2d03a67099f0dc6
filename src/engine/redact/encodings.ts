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
  return forms.filter((f) => f.length > 0);
}

/** Every encoded form of every value, without duplicates. */
export function sweepPatterns(values: Uint8Array[]): Uint8Array[] {
  const seen = new Set<string>();
  const out: Uint8Array[] = [];
  for (const v of values) {
    for (const f of encodedForms(v)) {
      const key = latin1(f);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(f);
    }
  }
  return out;
}

function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
  return s;
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
