/**
 * Philips stores the label and macro photographs as base64 JPEG inside its XML
 * (PIM_DP_IMAGE_DATA) and the barcode as base64 text (PIM_DP_UFS_BARCODE). Strict decoding:
 * anything that is not clean base64 is not decoded (the value is then still removed whole).
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) INDEX[ALPHABET.charCodeAt(i)] = i;

/** Base64 (whitespace ignored, padding optional) to bytes; undefined if not base64. */
export function decodeBase64(text: string): Uint8Array | undefined {
  const s = text.replace(/[ \t\r\n]+/g, '').replace(/={1,2}$/, '');
  if (s.length === 0 || s.length % 4 === 1) return undefined;
  const out = new Uint8Array(Math.floor((s.length * 6) / 8));
  let bits = 0;
  let acc = 0;
  let o = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const v = c < 128 ? INDEX[c]! : -1;
    if (v < 0) return undefined;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

/** Width and height from a JPEG's frame header (SOFn), or undefined if it has none before the scan. */
export function jpegSize(b: Uint8Array): { width: number; height: number } | undefined {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return undefined;
  let p = 2;
  while (p + 4 <= b.length) {
    if (b[p] !== 0xff) return undefined;
    const m = b[p + 1]!;
    if (m === 0xff) {
      p++;
      continue;
    }
    if (m === 0xd9 || m === 0xda) return undefined;
    const len = (b[p + 2]! << 8) | b[p + 3]!;
    const isSof = m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
    if (isSof) {
      if (p + 9 > b.length) return undefined;
      const height = (b[p + 5]! << 8) | b[p + 6]!;
      const width = (b[p + 7]! << 8) | b[p + 8]!;
      return width > 0 && height > 0 ? { width, height } : undefined;
    }
    p += 2 + len;
  }
  return undefined;
}
