import { SlideError } from '../../shared/errors.ts';

/**
 * JPEG surgery for images stored as one long JPEG with restart markers (Hamamatsu NDPI levels):
 * a restart interval is a run of MCUs whose entropy-coded data starts with reset DC predictors,
 * so a rectangle of whole intervals can become a standalone JPEG without decoding anything —
 * the strip's header with the rectangle's size in SOF, the intervals' bytes one after another,
 * their restart markers renumbered RST0, RST1, … and EOI in place of the last marker. A tile is
 * one interval wide (intervals cannot be split) and any number of MCU rows high (one interval per
 * row: the restart interval equals the tile's MCUs per row, so the DRI segment stays valid).
 */

export interface JpegStripHeader {
  /** Offset of the SOF marker (FFCn) from the start of the JPEG. */
  sofAt: number;
  /** Size written in SOF (NDPI writes 0 or a clamped value for images wider than 65500). */
  width: number;
  height: number;
  components: number;
  /** MCU size in pixels (8×8 for a single-component scan, else 8 × the largest sampling factors). */
  mcuWidth: number;
  mcuHeight: number;
  /** MCUs per restart interval (DRI); 0 = no restart markers. */
  restartInterval: number;
  /** Offset of the first entropy-coded byte (just after the SOS segment) = length of the header. */
  headerLength: number;
}

/** SOF markers of every DCT process (not DHT C4, JPG C8, DAC CC). */
function isSof(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/**
 * The marker segments from SOI to the end of SOS. Returns undefined when `bytes` ends before the
 * header does (the caller reads more); throws CORRUPT for anything that is not a JPEG header.
 */
export function parseJpegStripHeader(bytes: Uint8Array): JpegStripHeader | undefined {
  if (bytes.length < 2) return undefined;
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) throw new SlideError('CORRUPT', 'an image strip does not start with a JPEG marker');
  let p = 2;
  let sofAt = -1, width = 0, height = 0, components = 0, maxH = 1, maxV = 1, restartInterval = 0;
  while (true) {
    if (p + 4 > bytes.length) return undefined;
    if (bytes[p] !== 0xff) throw new SlideError('CORRUPT', 'a JPEG header is damaged (expected a marker)');
    const marker = bytes[p + 1]!;
    if (marker === 0xff) { p++; continue; } // fill byte
    const len = (bytes[p + 2]! << 8) | bytes[p + 3]!;
    if (len < 2) throw new SlideError('CORRUPT', 'a JPEG header has a segment with an impossible length');
    if (p + 2 + len > bytes.length) return undefined;
    const seg = bytes.subarray(p + 4, p + 2 + len);
    if (isSof(marker)) {
      if (seg.length < 6) throw new SlideError('CORRUPT', 'a JPEG frame header is too short');
      sofAt = p;
      height = (seg[1]! << 8) | seg[2]!;
      width = (seg[3]! << 8) | seg[4]!;
      components = seg[5]!;
      if (components < 1 || seg.length < 6 + 3 * components) throw new SlideError('CORRUPT', 'a JPEG frame header is damaged');
      maxH = 1; maxV = 1;
      for (let c = 0; c < components; c++) {
        const f = seg[6 + 3 * c + 1]!;
        maxH = Math.max(maxH, f >> 4);
        maxV = Math.max(maxV, f & 15);
      }
    } else if (marker === 0xdd) {
      if (seg.length < 2) throw new SlideError('CORRUPT', 'a JPEG restart interval segment is too short');
      restartInterval = (seg[0]! << 8) | seg[1]!;
    } else if (marker === 0xda) {
      if (sofAt < 0) throw new SlideError('CORRUPT', 'a JPEG reaches its scan without a frame header');
      const inScan = seg[0] ?? 0;
      // A single-component scan is not interleaved: its MCU is one 8×8 block.
      const single = inScan === 1;
      return {
        sofAt, width, height, components,
        mcuWidth: single ? 8 : 8 * maxH,
        mcuHeight: single ? 8 : 8 * maxV,
        restartInterval,
        headerLength: p + 2 + len,
      };
    } else if (marker === 0xd9 || (marker >= 0xd0 && marker <= 0xd7)) {
      throw new SlideError('CORRUPT', 'a JPEG header is damaged (unexpected marker)');
    }
    p += 2 + len;
  }
}

/**
 * A standalone JPEG of `width`×`height` pixels made of whole restart intervals: `header` is the
 * strip's header (SOI … SOS, as parsed into `h`), `intervals` the entropy-coded bytes of each
 * interval in tile order, each ending with the marker that followed it in the strip (an RSTn, or
 * EOI for the strip's last). Every interval must end with such a marker: anything else means the
 * interval table (McuStarts) does not describe this strip, and the tile is refused as CORRUPT.
 */
export function restartIntervalJpeg(header: Uint8Array, h: JpegStripHeader, intervals: Uint8Array[], width: number, height: number): Uint8Array {
  if (!(width > 0 && height > 0 && width <= 65535 && height <= 65535)) throw new SlideError('UNSUPPORTED', 'a tile is too large for a JPEG');
  let total = h.headerLength;
  for (const iv of intervals) {
    const n = iv.length;
    const last = iv[n - 1]!;
    if (n < 2 || iv[n - 2] !== 0xff || !((last >= 0xd0 && last <= 0xd7) || last === 0xd9)) {
      throw new SlideError('CORRUPT', 'a restart interval does not end with a restart marker: the interval table does not match the image data');
    }
    total += n;
  }
  const out = new Uint8Array(total);
  out.set(header.subarray(0, h.headerLength), 0);
  // SOF: length(2) precision(1) height(2) width(2) after the 2-byte marker.
  const s = h.sofAt + 5;
  out[s] = height >> 8; out[s + 1] = height & 255;
  out[s + 2] = width >> 8; out[s + 3] = width & 255;
  let p = h.headerLength;
  intervals.forEach((iv, i) => {
    out.set(iv, p);
    p += iv.length;
    // Restart markers count RST0…RST7 from the start of the scan; the tile's scan starts here.
    out[p - 1] = i === intervals.length - 1 ? 0xd9 : 0xd0 + (i % 8);
  });
  return out;
}

/** A whole JPEG (no restart markers) with the size in its SOF set to the image's (NDPI may write 0). */
export function withFrameSize(jpeg: Uint8Array, h: JpegStripHeader, width: number, height: number): Uint8Array {
  if (h.width === width && h.height === height) return jpeg;
  if (width > 65535 || height > 65535) throw new SlideError('UNSUPPORTED', 'an image without restart markers is too large to show');
  const out = jpeg.slice();
  const s = h.sofAt + 5;
  out[s] = height >> 8; out[s + 1] = height & 255;
  out[s + 2] = width >> 8; out[s + 3] = width & 255;
  return out;
}

/**
 * Offsets (from the JPEG's start) of every restart interval, found by scanning the entropy-coded
 * data for RSTn markers: the fallback when a file's interval table is missing or wrong. `chunk`
 * reads [offset, offset+length) of the JPEG.
 */
export async function scanRestartIntervals(headerLength: number, length: number, chunk: (offset: number, length: number) => Promise<Uint8Array>): Promise<number[]> {
  const starts = [headerLength];
  const step = 8 * 1024 * 1024;
  let prevFF = false;
  for (let off = headerLength; off < length; off += step) {
    const b = await chunk(off, Math.min(step, length - off));
    for (let i = 0; i < b.length; i++) {
      const x = b[i]!;
      if (prevFF && x >= 0xd0 && x <= 0xd7) starts.push(off + i + 1);
      prevFF = x === 0xff;
    }
  }
  return starts;
}
