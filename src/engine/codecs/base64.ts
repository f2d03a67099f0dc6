/**
 * Base64 inside vendor metadata: Philips stores the label and macro photographs as base64 JPEG in
 * its XML (PIM_DP_IMAGE_DATA) and barcodes as base64 text (PIM_DP_UFS_BARCODE, Leica's barcode).
 * Strict decoding: anything that is not clean base64 is not decoded (the value is then still
 * removed whole; only its decoded form is not swept).
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
