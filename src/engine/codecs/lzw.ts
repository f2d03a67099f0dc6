import { SlideError } from '../../shared/errors.ts';

/**
 * TIFF LZW decoder (MSB-first codes, 9–12 bits, "early change" as libtiff writes it).
 * `expected` bounds the output so a hostile stream cannot grow memory without limit.
 */
export function decodeLzw(input: Uint8Array, expected: number): Uint8Array {
  const out = new Uint8Array(expected);
  let outPos = 0;
  // Dictionary as prefix links: entry = (prefix code, last byte, length).
  const prefix = new Int32Array(4096);
  const suffix = new Uint8Array(4096);
  const length = new Int32Array(4096);
  const first = new Uint8Array(4096);
  for (let i = 0; i < 256; i++) {
    prefix[i] = -1; suffix[i] = i; length[i] = 1; first[i] = i;
  }
  let next = 258;
  let width = 9;
  let bitPos = 0;
  const totalBits = input.length * 8;
  let old = -1;
  const emit = (code: number) => {
    const len = length[code]!;
    const n = Math.min(len, expected - outPos);
    // Walk back from the code's last byte; bytes past `expected` are dropped.
    let c = code;
    for (let i = len - 1; i >= 0; i--) {
      if (i < n) out[outPos + i] = suffix[c]!;
      c = prefix[c]!;
    }
    outPos += n;
  };
  while (bitPos + width <= totalBits && outPos < expected) {
    // Read `width` bits MSB-first (width <= 12 so 3 bytes always suffice).
    const bytePos = Math.floor(bitPos / 8);
    const b0 = input[bytePos]!, b1 = input[bytePos + 1] ?? 0, b2 = input[bytePos + 2] ?? 0;
    const word = b0 * 65536 + b1 * 256 + b2;
    const shift = 24 - (bitPos % 8) - width;
    const code = Math.floor(word / 2 ** shift) % 2 ** width;
    bitPos += width;
    if (code === 257) break; // EOI
    if (code === 256) { // Clear
      next = 258; width = 9; old = -1;
      continue;
    }
    if (old === -1) {
      if (code > 255) throw new SlideError('CORRUPT', 'LZW data starts with an invalid code');
      emit(code);
      old = code;
      continue;
    }
    // The new entry is old + first byte of `code`; when `code` is the entry being defined
    // (the KwKwK case) that first byte is old's own first byte.
    let firstByte: number;
    if (code < next) firstByte = first[code]!;
    else if (code === next && next < 4096) firstByte = first[old]!;
    else throw new SlideError('CORRUPT', 'LZW data holds an invalid code');
    if (next < 4096) {
      prefix[next] = old; suffix[next] = firstByte; length[next] = length[old]! + 1; first[next] = first[old]!;
      next++;
    }
    emit(code);
    old = code;
    // Early change: widen one code before the table fills the current width.
    if (next + 1 >= 2 ** width && width < 12) width++;
  }
  return outPos === expected ? out : out.subarray(0, outPos);
}
