/**
 * Width and height from a JPEG's frame header (SOFn: baseline, progressive, lossless), or
 * undefined when there is none before the scan or the markers are not well formed. Reads only
 * the header segments (for images embedded in vendor metadata and MIRAX Data files).
 */
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
    if (len < 2) return undefined;
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
