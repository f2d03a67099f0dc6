/**
 * The in-memory form of a DICOM header that the engine edits and re-encodes. Tags are 8 upper-case
 * hex digits ('00100010'), which sort in numeric order as strings. Values are the raw little-endian
 * bytes of the input; sequences hold items, each a dataset.
 */
export interface DicomElement {
  tag: string;
  vr: string;
  value?: Uint8Array;
  items?: DicomDataset[];
}

export type DicomDataset = DicomElement[];

/** VRs whose value is text (ASCII or a character set), padded with a space. */
const TEXT_VRS = new Set(['AE', 'AS', 'CS', 'DA', 'DS', 'DT', 'IS', 'LO', 'LT', 'PN', 'SH', 'ST', 'TM', 'UC', 'UR', 'UT']);

export function isTextVr(vr: string): boolean {
  return TEXT_VRS.has(vr) || vr === 'UI';
}

/**
 * A UID as PS3.5 9.1 allows it: digits and dots, components without leading zeros, at most 64
 * characters. Only such a value may be repeated in a message: whatever else sits in a UID element
 * (text copied over it, a patient's name) is a value from the file, and values may be PHI.
 */
export function isWellFormedUid(uid: string): boolean {
  return uid.length > 0 && uid.length <= 64 && /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/.test(uid);
}

export function findElement(ds: DicomDataset, tag: string): DicomElement | undefined {
  for (const el of ds) if (el.tag === tag) return el;
  return undefined;
}

const latin1 = new TextDecoder('latin1');

/** Text of an element with trailing padding (spaces, NULs) removed; undefined if absent. */
export function textOf(el: DicomElement | undefined): string | undefined {
  if (!el?.value) return el ? '' : undefined;
  return latin1.decode(el.value).replace(/[\0 ]+$/, '');
}

export function stringValue(ds: DicomDataset, tag: string, index = 0): string | undefined {
  const t = textOf(findElement(ds, tag));
  if (t === undefined) return undefined;
  const parts = t.split('\\');
  return parts[index]?.trim();
}

export function stringValues(ds: DicomDataset, tag: string): string[] {
  const t = textOf(findElement(ds, tag));
  return t ? t.split('\\').map((s) => s.trim()) : [];
}

/** A numeric attribute whatever its VR (US, UL, SS, SL, FL, FD, IS, DS). */
export function numberValue(ds: DicomDataset, tag: string, index = 0): number | undefined {
  const el = findElement(ds, tag);
  if (!el?.value) return undefined;
  const v = el.value;
  const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
  const at = (size: number): boolean => (index + 1) * size <= v.byteLength;
  switch (el.vr) {
    case 'US':
      return at(2) ? dv.getUint16(index * 2, true) : undefined;
    case 'SS':
      return at(2) ? dv.getInt16(index * 2, true) : undefined;
    case 'UL':
      return at(4) ? dv.getUint32(index * 4, true) : undefined;
    case 'SL':
      return at(4) ? dv.getInt32(index * 4, true) : undefined;
    case 'FL':
      return at(4) ? dv.getFloat32(index * 4, true) : undefined;
    case 'FD':
      return at(8) ? dv.getFloat64(index * 8, true) : undefined;
    default: {
      const s = stringValue(ds, el.tag, index);
      if (s === undefined || s === '') return undefined;
      const n = Number(s);
      return Number.isFinite(n) ? n : undefined;
    }
  }
}

/** First item of a sequence, or undefined. */
export function firstItem(ds: DicomDataset, tag: string): DicomDataset | undefined {
  return findElement(ds, tag)?.items?.[0];
}

const ascii = new TextEncoder();

/** Encode text for a value; the writer pads it to even length. */
export function textBytes(s: string): Uint8Array {
  return ascii.encode(s);
}

export function textElement(tag: string, vr: string, s: string): DicomElement {
  return { tag, vr, value: textBytes(s) };
}

/** Insert or replace keeping tag order. */
export function setElement(ds: DicomDataset, el: DicomElement): void {
  const i = ds.findIndex((e) => e.tag >= el.tag);
  if (i < 0) ds.push(el);
  else if (ds[i].tag === el.tag) ds[i] = el;
  else ds.splice(i, 0, el);
}

export function formatTag(tag: string): string {
  return `(${tag.slice(0, 4)},${tag.slice(4)})`;
}
