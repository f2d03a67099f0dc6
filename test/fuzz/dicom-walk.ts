/**
 * A minimal DICOM Part 10 walker of our own (not the engine's): it lists element headers, the
 * sequences and items around them and where their length fields are, so mutators can renumber an
 * element, change its VR or length, or insert an element inside an item and fix the lengths around
 * it. Explicit VR little/big endian and implicit VR little endian; deflated datasets are not walked.
 * Never throws on garbage; it stops instead.
 */
export interface DicomElement {
  /** Offset of the tag (start of the header). */
  pos: number;
  group: number;
  element: number;
  /** VR as written (explicit) or undefined (implicit). */
  vr?: string;
  headerLen: number;
  lengthPos: number;
  lengthSize: 2 | 4;
  /** 0xFFFFFFFF for undefined length. */
  length: number;
  valuePos: number;
  depth: number;
  /** Item or sequence containers (with defined length) enclosing this element, innermost last. */
  containers: DicomContainer[];
  /** An item header (FFFE,E000) inside a sequence rather than a data element. */
  isItem: boolean;
  inMeta: boolean;
}

export interface DicomContainer {
  lengthPos: number;
  lengthSize: 2 | 4;
  length: number;
}

export interface DicomLayout {
  little: boolean;
  explicit: boolean;
  datasetStart: number;
  elements: DicomElement[];
  /** Offset of Pixel Data (7FE0,0010), if reached. */
  pixelDataPos?: number;
}

const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const UNDEFINED = 0xffffffff;

export function isLongVr(vr: string): boolean {
  return LONG_VRS.has(vr);
}

export function walkDicom(b: Uint8Array): DicomLayout | undefined {
  if (b.length < 132 || b[128] !== 0x44 || b[129] !== 0x49 || b[130] !== 0x43 || b[131] !== 0x4d) return undefined;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const elements: DicomElement[] = [];
  // File meta: always explicit VR little endian.
  let p = 132;
  let ts = '';
  while (p + 8 <= b.length && dv.getUint16(p, true) === 0x0002) {
    const el = readHeader(b, dv, p, true, true, 0, [], true);
    if (!el || el.length === UNDEFINED) break;
    elements.push(el);
    if (el.element === 0x0010) ts = latin1(b.subarray(el.valuePos, el.valuePos + el.length)).replace(/[\0 ]+$/, '');
    p = el.valuePos + el.length;
  }
  if (ts === '1.2.840.10008.1.2.1.99') return { little: true, explicit: true, datasetStart: p, elements };
  const little = ts !== '1.2.840.10008.1.2.2';
  const explicit = ts !== '1.2.840.10008.1.2';
  const layout: DicomLayout = { little, explicit, datasetStart: p, elements };
  walkLevel(b, dv, p, b.length, little, explicit, 0, [], layout);
  return layout;
}

function walkLevel(b: Uint8Array, dv: DataView, start: number, end: number, little: boolean, explicit: boolean, depth: number, containers: DicomContainer[], layout: DicomLayout): number {
  let p = start;
  while (p + 8 <= end && layout.elements.length < 20000 && depth < 16) {
    const group = dv.getUint16(p, little);
    const element = dv.getUint16(p + 2, little);
    if (group === 0xfffe && (element === 0xe00d || element === 0xe0dd)) return p + 8; // item / sequence delimiter
    const el = readHeader(b, dv, p, little, explicit, depth, containers, false);
    if (!el) return end;
    layout.elements.push(el);
    if (group === 0x7fe0 && element === 0x0010) {
      layout.pixelDataPos = p;
      return end; // fragments and frames are pixel data, not elements
    }
    const isSeq = el.vr === 'SQ' || (!explicit && el.length === UNDEFINED) || el.isItem;
    if (isSeq) {
      const inner = el.length === UNDEFINED ? containers : [...containers, { lengthPos: el.lengthPos, lengthSize: el.lengthSize, length: el.length }];
      const innerEnd = el.length === UNDEFINED ? end : Math.min(end, el.valuePos + el.length);
      const after = walkLevel(b, dv, el.valuePos, innerEnd, little, explicit, depth + 1, inner, layout);
      p = el.length === UNDEFINED ? after : el.valuePos + el.length;
    } else {
      if (el.length === UNDEFINED) return end;
      p = el.valuePos + el.length;
    }
  }
  return p;
}

function readHeader(b: Uint8Array, dv: DataView, p: number, little: boolean, explicit: boolean, depth: number, containers: DicomContainer[], inMeta: boolean): DicomElement | undefined {
  if (p + 8 > b.length) return undefined;
  const group = dv.getUint16(p, little);
  const element = dv.getUint16(p + 2, little);
  const base = { pos: p, group, element, depth, containers, inMeta };
  if (group === 0xfffe) {
    // Items carry no VR in any transfer syntax.
    return { ...base, headerLen: 8, lengthPos: p + 4, lengthSize: 4, length: dv.getUint32(p + 4, little), valuePos: p + 8, isItem: element === 0xe000 };
  }
  if (!explicit) return { ...base, headerLen: 8, lengthPos: p + 4, lengthSize: 4, length: dv.getUint32(p + 4, little), valuePos: p + 8, isItem: false };
  const vr = String.fromCharCode(b[p + 4]!, b[p + 5]!);
  if (!/^[A-Z]{2}$/.test(vr)) return undefined;
  if (isLongVr(vr)) {
    if (p + 12 > b.length) return undefined;
    return { ...base, vr, headerLen: 12, lengthPos: p + 8, lengthSize: 4, length: dv.getUint32(p + 8, little), valuePos: p + 12, isItem: false };
  }
  return { ...base, vr, headerLen: 8, lengthPos: p + 6, lengthSize: 2, length: dv.getUint16(p + 6, little), valuePos: p + 8, isItem: false };
}

function latin1(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return s;
}
