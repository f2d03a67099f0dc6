import type { DicomDataset, DicomElement } from './dataset.ts';
import { isTextVr, textElement } from './dataset.ts';
import { TS_EXPLICIT_LE } from './part10.ts';

/** VRs with a 2-byte reserved field and a 4-byte length in explicit VR (PS3.5 7.1.2). */
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

/** Our implementation identity in the rebuilt file meta (a 2.25 UID derived from a fixed UUID). */
export const IMPLEMENTATION_CLASS_UID = '2.25.151943328727063526385469651307530467925';
export const IMPLEMENTATION_VERSION = 'WSI_IMPORT_1';

function paddedLength(el: DicomElement): number {
  const n = el.value?.length ?? 0;
  return n + (n % 2);
}

/** A value too long for a 2-byte length field is written as UN rather than corrupting the stream. */
function writtenVr(el: DicomElement): string {
  if (!LONG_VRS.has(el.vr) && paddedLength(el) > 0xfffe) return 'UN';
  return el.vr;
}

function elementSize(el: DicomElement, sizes: Map<DicomDataset, number>): number {
  if (el.vr === 'SQ') {
    let total = 12;
    for (const item of el.items ?? []) total += 8 + datasetSize(item, sizes);
    return total;
  }
  return (LONG_VRS.has(writtenVr(el)) ? 12 : 8) + paddedLength(el);
}

function datasetSize(ds: DicomDataset, sizes: Map<DicomDataset, number>): number {
  const known = sizes.get(ds);
  if (known !== undefined) return known;
  let total = 0;
  for (const el of ds) total += elementSize(el, sizes);
  sizes.set(ds, total);
  return total;
}

class Out {
  pos = 0;
  readonly bytes: Uint8Array;
  readonly dv: DataView;
  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.dv = new DataView(this.bytes.buffer);
  }
  tag(tag: string): void {
    this.dv.setUint16(this.pos, parseInt(tag.slice(0, 4), 16), true);
    this.dv.setUint16(this.pos + 2, parseInt(tag.slice(4), 16), true);
    this.pos += 4;
  }
  u16(v: number): void {
    this.dv.setUint16(this.pos, v, true);
    this.pos += 2;
  }
  u32(v: number): void {
    this.dv.setUint32(this.pos, v, true);
    this.pos += 4;
  }
  vr(vr: string): void {
    this.bytes[this.pos] = vr.charCodeAt(0);
    this.bytes[this.pos + 1] = vr.charCodeAt(1);
    this.pos += 2;
  }
}

function writeDataset(out: Out, ds: DicomDataset, sizes: Map<DicomDataset, number>): void {
  for (const el of ds) writeElement(out, el, sizes);
}

function writeElement(out: Out, el: DicomElement, sizes: Map<DicomDataset, number>): void {
  out.tag(el.tag);
  if (el.vr === 'SQ') {
    out.vr('SQ');
    out.u16(0);
    out.u32(elementSize(el, sizes) - 12);
    for (const item of el.items ?? []) {
      out.tag('FFFEE000');
      out.u32(datasetSize(item, sizes));
      writeDataset(out, item, sizes);
    }
    return;
  }
  const vr = writtenVr(el);
  const len = paddedLength(el);
  out.vr(vr);
  if (LONG_VRS.has(vr)) {
    out.u16(0);
    out.u32(len);
  } else {
    out.u16(len);
  }
  const v = el.value ?? new Uint8Array(0);
  out.bytes.set(v, out.pos);
  // Pad odd values: UI with NUL, text with space, binary with NUL (PS3.5 6.2).
  if (v.length % 2 === 1) out.bytes[out.pos + v.length] = isTextVr(el.vr) && el.vr !== 'UI' ? 0x20 : 0;
  out.pos += len;
}

/** Encode a data set in explicit VR little endian with defined lengths everywhere. */
export function encodeDataset(ds: DicomDataset): Uint8Array {
  const sizes = new Map<DicomDataset, number>();
  const out = new Out(datasetSize(ds, sizes));
  writeDataset(out, ds, sizes);
  return out.bytes;
}

/**
 * Preamble + 'DICM' + a rebuilt file meta group (PS3.10 7.1) with a correct group length. Only the
 * required elements are written: source/sending AE titles and private meta would leak the site.
 */
export function encodeFileMeta(sopClassUid: string, sopInstanceUid: string, transferSyntax: string = TS_EXPLICIT_LE): Uint8Array {
  const body: DicomDataset = [
    { tag: '00020001', vr: 'OB', value: new Uint8Array([0, 1]) },
    textElement('00020002', 'UI', sopClassUid),
    textElement('00020003', 'UI', sopInstanceUid),
    textElement('00020010', 'UI', transferSyntax),
    textElement('00020012', 'UI', IMPLEMENTATION_CLASS_UID),
    textElement('00020013', 'SH', IMPLEMENTATION_VERSION),
  ];
  const bodyBytes = encodeDataset(body);
  const glValue = new Uint8Array(4);
  new DataView(glValue.buffer).setUint32(0, bodyBytes.length, true);
  const groupLength: DicomElement = { tag: '00020000', vr: 'UL', value: glValue };
  const gl = encodeDataset([groupLength]);
  const out = new Uint8Array(132 + gl.length + bodyBytes.length);
  out.set([0x44, 0x49, 0x43, 0x4d], 128);
  out.set(gl, 132);
  out.set(bodyBytes, 132 + gl.length);
  return out;
}

/** The Pixel Data element's tag, VR and length: encapsulated data has an undefined length. */
export function encodePixelDataHeader(vr: string, length: number | 'undefined'): Uint8Array {
  const out = new Out(12);
  out.tag('7FE00010');
  out.vr(vr);
  out.u16(0);
  out.u32(length === 'undefined' ? 0xffffffff : length);
  return out.bytes;
}
