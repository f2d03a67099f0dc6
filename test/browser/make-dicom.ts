/**
 * A VL WSI instance whose native pixel data can exceed 2 GiB, laid out for writing into OPFS in
 * the browser (test/browser/dicom-opfs.test.ts, test/bench/opfs.bench.ts). Pure TS, no Node: the
 * Node fixture (test/fixtures/dicom/large.ts) writes through node:fs, which a browser bundle cannot
 * import. The encoder is deliberately separate from src/engine/dicom/writer.ts.
 *
 * The layout lists the pieces to write (header ending with the Pixel Data element header, marked
 * frames, a trailing element); everything else is zeros unless the writer fills it.
 */

const enc = new TextEncoder();

export interface LargeDicomOptions {
  tile?: number;
  cols?: number;
  rows?: number;
  /** Frames to mark with a distinct byte (frame index -> byte), besides the first and last. */
  marks?: number[];
}

export interface LargeDicomLayout {
  size: number;
  pixelStart: number;
  pixelBytes: number;
  frameBytes: number;
  frames: number;
  /** Writes: header, marked frames, trailer. Bytes not covered are zeros (sparse). */
  pieces: { offset: number; bytes: Uint8Array }[];
  /** Output-independent checks: (frame index, byte every pixel of that frame holds). */
  marked: { frame: number; byte: number }[];
  /** Identifying values written in the header (a test checks they are gone). */
  phi: string[];
}

function el(group: number, elem: number, vr: string, value: Uint8Array | string): Uint8Array {
  let v = typeof value === 'string' ? enc.encode(value) : value;
  if (v.length % 2) {
    const p = new Uint8Array(v.length + 1);
    p.set(v);
    p[v.length] = vr === 'UI' || vr === 'OB' ? 0 : 0x20;
    v = p;
  }
  const long = ['OB', 'OW', 'SQ', 'UN', 'UT'].includes(vr);
  const out = new Uint8Array((long ? 12 : 8) + v.length);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, group, true);
  dv.setUint16(2, elem, true);
  out[4] = vr.charCodeAt(0);
  out[5] = vr.charCodeAt(1);
  if (long) dv.setUint32(8, v.length, true);
  else dv.setUint16(6, v.length, true);
  out.set(v, long ? 12 : 8);
  return out;
}

function num(n: number, bytes: 2 | 4): Uint8Array {
  const b = new Uint8Array(bytes);
  const dv = new DataView(b.buffer);
  if (bytes === 2) dv.setUint16(0, n, true);
  else dv.setUint32(0, n, true);
  return b;
}

function seq(group: number, elem: number, items: Uint8Array[][]): Uint8Array {
  const body = items.map((els) => {
    const content = concat(els);
    const h = new Uint8Array(8);
    const dv = new DataView(h.buffer);
    dv.setUint16(0, 0xfffe, true);
    dv.setUint16(2, 0xe000, true);
    dv.setUint32(4, content.length, true);
    return concat([h, content]);
  });
  const content = concat(body);
  const h = new Uint8Array(12);
  const dv = new DataView(h.buffer);
  dv.setUint16(0, group, true);
  dv.setUint16(2, elem, true);
  h[4] = 0x53;
  h[5] = 0x51;
  dv.setUint32(8, content.length, true);
  return concat([h, content]);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Default: 512² RGB tiles, 60 × 50 frames = 2.2 GiB of pixel data (over 2^31). */
export function largeDicomLayout(o: LargeDicomOptions = {}): LargeDicomLayout {
  const tile = o.tile ?? 512;
  const cols = o.cols ?? 60;
  const rows = o.rows ?? 50;
  const frames = cols * rows;
  const frameBytes = tile * tile * 3;
  const pixelBytes = frameBytes * frames;
  if (pixelBytes >= 2 ** 32) throw new Error('pixel data must fit a 32-bit length');
  const uid = '1.2.826.0.1.3680043.10.999.78.';
  const phi = ['Opfs^Patient^Name', 'OPFS-MRN-00991', 'OPFS-SLIDE-7782', 'OPFS-ACC-55123'];
  const meta = concat([
    el(0x0002, 0x0001, 'OB', new Uint8Array([0, 1])),
    el(0x0002, 0x0002, 'UI', '1.2.840.10008.5.1.4.1.1.77.1.6'),
    el(0x0002, 0x0003, 'UI', `${uid}3`),
    el(0x0002, 0x0010, 'UI', '1.2.840.10008.1.2.1'),
  ]);
  const ds = concat([
    el(0x0008, 0x0008, 'CS', 'ORIGINAL\\PRIMARY\\VOLUME\\NONE'),
    el(0x0008, 0x0016, 'UI', '1.2.840.10008.5.1.4.1.1.77.1.6'),
    el(0x0008, 0x0018, 'UI', `${uid}3`),
    el(0x0008, 0x0020, 'DA', '20240101'),
    el(0x0008, 0x0050, 'SH', phi[3]!),
    el(0x0008, 0x0060, 'CS', 'SM'),
    el(0x0010, 0x0010, 'PN', phi[0]!),
    el(0x0010, 0x0020, 'LO', phi[1]!),
    el(0x0020, 0x000d, 'UI', `${uid}1`),
    el(0x0020, 0x000e, 'UI', `${uid}2`),
    el(0x0020, 0x0052, 'UI', `${uid}4`),
    el(0x0020, 0x9311, 'CS', 'TILED_FULL'),
    el(0x0028, 0x0002, 'US', num(3, 2)),
    el(0x0028, 0x0004, 'CS', 'RGB'),
    el(0x0028, 0x0006, 'US', num(0, 2)),
    el(0x0028, 0x0008, 'IS', String(frames)),
    el(0x0028, 0x0010, 'US', num(tile, 2)),
    el(0x0028, 0x0011, 'US', num(tile, 2)),
    el(0x0028, 0x0100, 'US', num(8, 2)),
    el(0x0028, 0x0101, 'US', num(8, 2)),
    el(0x0028, 0x0102, 'US', num(7, 2)),
    el(0x0028, 0x0103, 'US', num(0, 2)),
    el(0x0040, 0x0512, 'LO', phi[2]!),
    el(0x0048, 0x0006, 'UL', num(cols * tile, 4)),
    el(0x0048, 0x0007, 'UL', num(rows * tile, 4)),
    seq(0x5200, 0x9229, [[seq(0x0028, 0x9110, [[el(0x0028, 0x0030, 'DS', '0.00025\\0.00025')]])]]),
  ]);
  const pixelHeader = new Uint8Array(12);
  const pdv = new DataView(pixelHeader.buffer);
  pdv.setUint16(0, 0x7fe0, true);
  pdv.setUint16(2, 0x0010, true);
  pixelHeader[4] = 0x4f; // O
  pixelHeader[5] = 0x42; // B
  pdv.setUint32(8, pixelBytes, true);
  const head = concat([new Uint8Array(128), enc.encode('DICM'), el(0x0002, 0x0000, 'UL', num(meta.length, 4)), meta, ds, pixelHeader]);
  // A trailing element after Pixel Data (a fake signature): the engine must not copy it blindly.
  const trailer = el(0xfffa, 0xfffa, 'UN', 'SIGNED-BY-OPFS-SCANNER');
  const pixelStart = head.length;
  const marked = [{ frame: 0, byte: 0xa5 }, { frame: frames - 1, byte: 0x5a }, ...(o.marks ?? []).map((frame, i) => ({ frame, byte: 0x11 + i }))];
  const pieces = [
    { offset: 0, bytes: head },
    ...marked.map((m) => ({ offset: pixelStart + m.frame * frameBytes, bytes: new Uint8Array(frameBytes).fill(m.byte) })),
    { offset: pixelStart + pixelBytes, bytes: trailer },
  ];
  return { size: pixelStart + pixelBytes + trailer.length, pixelStart, pixelBytes, frameBytes, frames, pieces, marked, phi };
}
