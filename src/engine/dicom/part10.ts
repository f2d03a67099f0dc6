import dicomParserDefault from 'dicom-parser';
import type { DataSet, Element } from 'dicom-parser';
import { inflateSync } from 'fflate';
import type { ByteSource } from '../io/byte-source.ts';
import { BufferSource } from '../io/buffer-source.ts';
import { SlideError, throwIfAborted } from '../../shared/errors.ts';
import type { DicomDataset, DicomElement } from './dataset.ts';
import { findElement, formatTag, numberValue, textOf } from './dataset.ts';
import { dictionaryVr } from './dictionary.ts';

// dicom-parser is a UMD bundle: its default export is the API object in Node and in esbuild bundles.
const dicomParser = dicomParserDefault as unknown as typeof import('dicom-parser');

export const TS_IMPLICIT_LE = '1.2.840.10008.1.2';
export const TS_EXPLICIT_LE = '1.2.840.10008.1.2.1';
export const TS_DEFLATED_LE = '1.2.840.10008.1.2.1.99';
export const TS_EXPLICIT_BE = '1.2.840.10008.1.2.2';

const PIXEL_DATA = 'x7fe00010';
const FIRST_READ = 256 * 1024;
/** A header (everything before Pixel Data) larger than this is refused rather than held in memory. */
const MAX_HEADER = 512 * 1024 * 1024;
/** Deflated datasets must be inflated whole (pixel data included); refuse absurd sizes. */
const MAX_DEFLATED = 256 * 1024 * 1024;

/** Where the Pixel Data element sits in the (possibly inflated) byte stream. */
export interface PixelDataHeader {
  /** Offset of the (7FE0,0010) tag. */
  tagOffset: number;
  valueOffset: number;
  /** Declared value length; undefined length (encapsulated) is -1. */
  declaredLength: number;
  /** VR as read, or resolved from BitsAllocated for implicit VR input. */
  vr: string;
}

export interface Part10Header {
  name: string;
  transferSyntax: string;
  meta: DicomDataset;
  dataset: DicomDataset;
  pixel: PixelDataHeader;
  /** The bytes that offsets in `pixel` refer to: the file itself, or the inflated stream for deflate. */
  pixelSource: ByteSource;
  /** True when pixelSource is an in-memory inflated copy (deflated transfer syntax). */
  inflated: boolean;
}

/** Read 132 bytes and say whether this is a DICOM Part 10 file. Never throws for short files. */
export async function hasDicmPrefix(source: ByteSource, signal?: AbortSignal): Promise<boolean> {
  if (source.size < 132) return false;
  const b = await source.read(128, 4, signal);
  return b.length === 4 && b[0] === 0x44 && b[1] === 0x49 && b[2] === 0x43 && b[3] === 0x4d;
}

function parseError(e: unknown): string {
  if (e instanceof Error) return e.message;
  // parseDicom rethrows { exception, dataSet } objects.
  if (e && typeof e === 'object' && 'exception' in e) return parseError((e as { exception: unknown }).exception);
  return typeof e === 'string' ? e : 'parse error';
}

function looksTruncated(msg: string): boolean {
  // dicom-parser words a value or item running past the bytes it was given in several ways.
  return /past end|overrun|eof|end of buffer|beyond|maxP ?osition/i.test(msg);
}

/**
 * Read the header of one instance: the file meta and every element before Pixel Data, reading
 * only the bytes of the header (growing the read until dicom-parser reaches Pixel Data) so pixel
 * data never enters memory — except for the deflated transfer syntax, where it cannot be reached
 * without inflating.
 */
export interface FileMeta {
  meta: DicomDataset;
  transferSyntax: string;
  /** MediaStorageSOPClassUID: lets callers refuse non-image objects before parsing their data set. */
  sopClassUid: string;
  /** The first bytes of the file read so far (at least the meta), reused by readPart10Header. */
  bytes: Uint8Array;
  /**
   * Where each file meta element's value starts: dicom-parser merges the meta into the data set,
   * so a group 0002 element found elsewhere is one inside the data set (kept apart, and removed).
   */
  metaOffsets: ReadonlyMap<string, number>;
  /** First byte after the file meta group. */
  metaEnd: number;
}

/** How much of a header to keep when converting it. */
export interface ReadOptions {
  /**
   * Keep every element as it is in the file: group lengths and data set trailing padding too, so a
   * check of an output sees every byte (the normal read drops them: the writer recomputes lengths).
   */
  raw?: boolean;
}

/**
 * dicom-parser throws plain strings ("…readUint32: attempt to read past end of buffer"), objects
 * ({ exception, dataSet }) and Errors, from its parse functions and from its value accessors alike.
 * Whatever escapes a read of a file is a fault of the file, and the batch must say which file and
 * why: so every public read runs through here, and anything that is not already a SlideError (or a
 * cancellation) becomes TRUNCATED or CORRUPT naming the file. The parser's own words go to the
 * detail: they name functions and offsets, never values.
 */
async function guarded<T>(name: string, what: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (e) {
    if (e instanceof SlideError || (e instanceof Error && e.name === 'AbortError')) throw e;
    const msg = parseError(e);
    const truncated = looksTruncated(msg);
    throw new SlideError(truncated ? 'TRUNCATED' : 'CORRUPT', `${name}: ${what} is ${truncated ? 'cut short' : 'damaged'}`, { detail: msg, cause: e });
  }
}

/** The file meta group only (PS3.10): cheap, and enough to tell what kind of object this is. */
export async function readFileMeta(source: ByteSource, signal?: AbortSignal): Promise<FileMeta> {
  return guarded(source.name, 'the DICOM file meta information', () => readFileMetaUnguarded(source, signal));
}

/** Where a parsed meta element's value ends past the bytes read, or -1 when every one fits. */
function metaOverrun(ds: DataSet, length: number): number {
  let end = -1;
  for (const el of Object.values(ds.elements)) {
    const e = el.dataOffset + (el.hadUndefinedLength ? 0 : el.length);
    if (el.dataOffset > length || e > length) end = Math.max(end, e);
  }
  return end;
}

/**
 * dicom-parser's reading of the file meta, growing the read until it succeeds with every value
 * inside the bytes read. dicom-parser stops at the end of the bytes it was given without complaint
 * when an element's header fits but its value does not (a file cut just after the (0002,0000)
 * header), and its value accessors would then read past the buffer: a value past the bytes read
 * means "read more", and past the end of the file means the file is cut short.
 */
async function parseMeta(source: ByteSource, signal?: AbortSignal): Promise<{ metaDs: DataSet; bytes: Uint8Array }> {
  const name = source.name;
  let bytes = await source.read(0, Math.min(source.size, FIRST_READ), signal);
  for (;;) {
    let failure: unknown;
    let parsed: DataSet | undefined;
    try {
      parsed = dicomParser.readPart10Header(bytes);
    } catch (e) {
      failure = e;
    }
    const overrun = parsed ? metaOverrun(parsed, bytes.length) : -1;
    if (parsed && overrun < 0) return { metaDs: parsed, bytes };
    if (bytes.length < source.size && bytes.length < MAX_HEADER) {
      bytes = await source.read(0, Math.min(source.size, Math.max(bytes.length * 4, overrun)), signal);
      continue;
    }
    if (parsed) throw new SlideError('TRUNCATED', `${name}: the DICOM file meta information is cut short`);
    throw new SlideError('TRUNCATED', `${name}: the DICOM file meta information is incomplete`, { detail: parseError(failure) });
  }
}

async function readFileMetaUnguarded(source: ByteSource, signal?: AbortSignal): Promise<FileMeta> {
  const name = source.name;
  if (!(await hasDicmPrefix(source, signal))) throw new SlideError('NOT_RECOGNIZED', `${name}: not a DICOM file`);
  const { metaDs, bytes } = await parseMeta(source, signal);
  // dicom-parser reads every leading group 0002 element as meta; the group length says where the
  // meta ends (PS3.10 7.1), and a 0002 element past it lies inside the data set. Read here rather
  // than with dicom-parser's accessor, which throws a string on a short value.
  const gl = metaDs.elements['x00020000'];
  const limit = gl && gl.length === 4 ? gl.dataOffset + 4 + new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(gl.dataOffset, true) : Infinity;
  const outside = new Set(Object.keys(metaDs.elements).filter((k) => metaDs.elements[k].dataOffset >= limit));
  const meta = convertDataSet(metaDs, true, outside, { bytes: metaDs.byteArray, name, isMeta: true });
  const transferSyntax = textOf(findElement(meta, '00020010'))?.trim();
  if (!transferSyntax) throw new SlideError('CORRUPT', `${name}: no transfer syntax in the file meta information`);
  const sopClassUid = textOf(findElement(meta, '00020002'))?.trim() ?? '';
  const metaOffsets = new Map<string, number>();
  let metaEnd = 132;
  for (const [key, el] of Object.entries(metaDs.elements)) {
    if (outside.has(key)) continue;
    metaOffsets.set(key, el.dataOffset);
    metaEnd = Math.max(metaEnd, el.dataOffset + el.length);
  }
  return { meta, transferSyntax, sopClassUid, bytes, metaOffsets, metaEnd };
}

/**
 * Read the header of one instance: the file meta and every element before Pixel Data, reading
 * only the bytes of the header (growing the read until dicom-parser reaches Pixel Data) so pixel
 * data never enters memory — except for the deflated transfer syntax, where it cannot be reached
 * without inflating.
 */
export async function readPart10Header(source: ByteSource, signal?: AbortSignal, fileMeta?: FileMeta, options: ReadOptions = {}): Promise<Part10Header> {
  return guarded(source.name, 'the DICOM header', () => readPart10HeaderUnguarded(source, signal, fileMeta, options));
}

async function readPart10HeaderUnguarded(source: ByteSource, signal: AbortSignal | undefined, fileMeta: FileMeta | undefined, options: ReadOptions): Promise<Part10Header> {
  const name = source.name;
  const fm = fileMeta ?? (await readFileMeta(source, signal));
  const { meta, transferSyntax } = fm;
  const conv: ConvertContext = { bytes: new Uint8Array(0), name, metaOffsets: fm.metaOffsets, raw: options.raw === true };
  let bytes = fileMeta?.bytes ?? (await source.read(0, Math.min(source.size, FIRST_READ), signal));
  if (transferSyntax === TS_EXPLICIT_BE) {
    throw new SlideError('UNSUPPORTED', `${name}: big-endian DICOM is not supported (retired transfer syntax); convert it to little endian first`);
  }
  const explicit = transferSyntax !== TS_IMPLICIT_LE;

  if (transferSyntax === TS_DEFLATED_LE) return readDeflated(source, meta, transferSyntax, conv, signal);

  for (;;) {
    throwIfAborted(signal);
    let ds: DataSet | undefined;
    let failure: string | undefined;
    try {
      ds = dicomParser.parseDicom(bytes, { untilTag: PIXEL_DATA, vrCallback: explicit ? undefined : implicitVr } as never);
    } catch (e) {
      failure = parseError(e);
    }
    const pixelEl = ds?.elements[PIXEL_DATA];
    const complete = ds !== undefined && pixelEl !== undefined && pixelEl.dataOffset <= bytes.length;
    if (complete) {
      return finish(name, source, false, meta, transferSyntax, explicit, ds!, { ...conv, bytes });
    }
    if (bytes.length < source.size) {
      if (bytes.length >= MAX_HEADER) throw new SlideError('UNSUPPORTED', `${name}: DICOM header larger than ${MAX_HEADER / 1048576} MiB`);
      bytes = await source.read(0, Math.min(source.size, bytes.length * 4), signal);
      continue;
    }
    if (failure !== undefined) {
      throw new SlideError(looksTruncated(failure) ? 'TRUNCATED' : 'CORRUPT', `${name}: the DICOM header is ${looksTruncated(failure) ? 'cut short' : 'damaged'}`, { detail: failure });
    }
    throw new SlideError('CORRUPT', `${name}: the DICOM file has no Pixel Data`);
  }
}

async function readDeflated(source: ByteSource, meta: DicomDataset, transferSyntax: string, conv: ConvertContext, signal?: AbortSignal): Promise<Part10Header> {
  const name = source.name;
  if (source.size > MAX_DEFLATED) throw new SlideError('UNSUPPORTED', `${name}: deflated DICOM larger than ${MAX_DEFLATED / 1048576} MiB`);
  const whole = await source.read(0, source.size, signal);
  let full: Uint8Array | undefined;
  let ds: DataSet;
  try {
    ds = dicomParser.parseDicom(whole, {
      untilTag: PIXEL_DATA,
      // dicom-parser parses the returned array from offset 0: hand it the inflated data set only.
      inflater: (arr: Uint8Array, position: number) => {
        full = inflateSync(arr.subarray(position));
        return full;
      },
    } as never);
  } catch (e) {
    const msg = parseError(e);
    throw new SlideError(looksTruncated(msg) || /invalid|unexpected/i.test(msg) ? 'TRUNCATED' : 'CORRUPT', `${name}: the deflated DICOM data set cannot be read`, { detail: msg });
  }
  if (!full) throw new SlideError('CORRUPT', `${name}: the deflated DICOM data set cannot be read`);
  if (!ds.elements[PIXEL_DATA]) throw new SlideError('CORRUPT', `${name}: the DICOM file has no Pixel Data`);
  return finish(name, new BufferSource(full, name), true, meta, transferSyntax, true, ds, { ...conv, bytes: full });
}

function finish(
  name: string,
  pixelSource: ByteSource,
  inflated: boolean,
  meta: DicomDataset,
  transferSyntax: string,
  explicit: boolean,
  ds: DataSet,
  conv: ConvertContext,
): Part10Header {
  const pixelEl = ds.elements[PIXEL_DATA];
  const dataset = convertDataSet(ds, explicit, new Set([PIXEL_DATA]), { ...conv, top: true });
  const headerLength = explicit ? 12 : 8;
  const declaredLength = pixelEl.hadUndefinedLength ? -1 : pixelEl.length;
  let vr = explicit ? (pixelEl.vr ?? 'OB') : (numberValue(dataset, '00280100') ?? 8) > 8 ? 'OW' : 'OB';
  if (declaredLength === -1) vr = 'OB';
  if (vr !== 'OB' && vr !== 'OW') throw new SlideError('CORRUPT', `${name}: Pixel Data has an invalid value representation`);
  return {
    name,
    transferSyntax,
    meta,
    dataset,
    pixel: { tagOffset: pixelEl.dataOffset - headerLength, valueOffset: pixelEl.dataOffset, declaredLength, vr },
    pixelSource,
    inflated,
  };
}

function implicitVr(tag: string): string {
  return dictionaryVr(tag.slice(1).toUpperCase());
}

interface ConvertContext {
  /** The bytes element offsets refer to. */
  bytes: Uint8Array;
  /** File name, for errors. */
  name: string;
  isMeta?: boolean;
  /** Converting the top level of the data set (where dicom-parser put the file meta too). */
  top?: boolean;
  metaOffsets?: ReadonlyMap<string, number>;
  raw?: boolean;
}

/**
 * dicom-parser's element map -> our ordered tree. Group lengths and data set trailing padding are
 * dropped here (unless `raw`): the writer recomputes what is needed, and stale group lengths would
 * be wrong. File meta elements are kept apart; a group 0002 element that is not one of them lies
 * inside the data set and is kept, so the profile can show and remove it.
 */
function convertDataSet(ds: DataSet, explicit: boolean, skip: Set<string>, conv: ConvertContext): DicomDataset {
  const out: DicomDataset = [];
  for (const key of Object.keys(ds.elements)) {
    if (skip.has(key)) continue;
    const el = ds.elements[key];
    const tag = key.slice(1).toUpperCase();
    if (!conv.isMeta && conv.top && tag.startsWith('0002') && conv.metaOffsets?.get(key) === el.dataOffset) continue;
    // The item delimiters dicom-parser records inside undefined-length items carry nothing.
    if (tag.startsWith('FFFE')) continue;
    if (!conv.raw && !conv.isMeta && (tag.endsWith('0000') && !tag.startsWith('0000') || tag === 'FFFCFFFC')) continue;
    out.push(convertElement(el, tag, explicit, conv));
  }
  out.sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  return out;
}

function convertElement(el: Element, tag: string, explicit: boolean, conv: ConvertContext): DicomElement {
  const { bytes, name } = conv;
  let vr = explicit && el.vr ? el.vr : dictionaryVr(tag);
  if (vr === 'UN') {
    // Explicit files sometimes carry standard attributes as UN; the dictionary knows better.
    const known = dictionaryVr(tag);
    if (known !== 'UN' && (known !== 'SQ' || el.items)) vr = known;
  }
  if (el.items) {
    const items = el.items.map((item, i) => {
      // An item dicom-parser could not read would silently vanish from the output: refuse instead.
      if (!item.dataSet) throw new SlideError('CORRUPT', `${name}: item ${i + 1} of sequence ${formatTag(tag)} cannot be read`);
      return convertDataSet(item.dataSet, explicit && !(el.vr === 'UN'), new Set(), { ...conv, top: false });
    });
    return { tag, vr: 'SQ', items };
  }
  if (vr === 'SQ') {
    // An empty or unparsed sequence (dicom-parser leaves private defined-length sequences as bytes).
    if (el.length === 0) return { tag, vr: 'SQ', items: [] };
    vr = 'UN';
  }
  const length = el.hadUndefinedLength ? 0 : el.length;
  if (el.dataOffset + length > bytes.length) {
    throw new SlideError('TRUNCATED', `${name}: element ${formatTag(tag)} runs past the end of the file`);
  }
  if (vr === 'UN' && dictionaryVr(tag) === 'SQ' && !el.hadUndefinedLength) {
    // A sequence written as UN holds its items in implicit VR little endian (PS3.5 6.2.2): read
    // them so each element is judged on its own. Bytes that do not read strictly as such items stay
    // UN — opaque to the rules, so removed, and the file refused if the IOD needs the sequence.
    const items = implicitItems(bytes, el.dataOffset, el.dataOffset + length, false, conv, 0);
    if (items && items.next === el.dataOffset + length) return { tag, vr: 'SQ', items: items.items };
  }
  return { tag, vr, value: bytes.subarray(el.dataOffset, el.dataOffset + length) };
}

const UNDEFINED_LENGTH = 0xffffffff;
/** Nesting deeper than this in a UN value is not a sequence the engine reads (and bounds recursion). */
const MAX_UN_DEPTH = 16;

function tagAt(dv: DataView, at: number): string {
  return (dv.getUint16(at, true).toString(16).padStart(4, '0') + dv.getUint16(at + 2, true).toString(16).padStart(4, '0')).toUpperCase();
}

/**
 * The items of a sequence in implicit VR little endian between `start` and `end` (or up to its
 * Sequence Delimitation Item when `undefinedLength`). Strict, unlike dicom-parser: every byte must
 * belong to an item and every element must end inside its item; undefined when the bytes are not
 * such a sequence.
 */
function implicitItems(bytes: Uint8Array, start: number, end: number, undefinedLength: boolean, conv: ConvertContext, depth: number): { items: DicomDataset[]; next: number } | undefined {
  if (depth > MAX_UN_DEPTH) return undefined;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const items: DicomDataset[] = [];
  let pos = start;
  for (;;) {
    if (!undefinedLength && pos === end) return { items, next: pos };
    if (pos + 8 > end) return undefined;
    const tag = tagAt(dv, pos);
    const length = dv.getUint32(pos + 4, true);
    pos += 8;
    if (undefinedLength && tag === 'FFFEE0DD') return length === 0 ? { items, next: pos } : undefined;
    if (tag !== 'FFFEE000') return undefined;
    const itemEnd = length === UNDEFINED_LENGTH ? end : pos + length;
    if (itemEnd > end) return undefined;
    const ds = implicitElements(bytes, pos, itemEnd, length === UNDEFINED_LENGTH, conv, depth);
    if (!ds || (length !== UNDEFINED_LENGTH && ds.next !== itemEnd)) return undefined;
    items.push(ds.ds);
    pos = ds.next;
  }
}

/** The elements of one implicit VR item (see implicitItems); VRs come from the dictionary. */
function implicitElements(bytes: Uint8Array, start: number, end: number, undefinedLength: boolean, conv: ConvertContext, depth: number): { ds: DicomDataset; next: number } | undefined {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ds: DicomDataset = [];
  let pos = start;
  for (;;) {
    if (!undefinedLength && pos === end) break;
    if (pos + 8 > end) return undefined;
    const tag = tagAt(dv, pos);
    const length = dv.getUint32(pos + 4, true);
    pos += 8;
    if (undefinedLength && tag === 'FFFEE00D') {
      if (length !== 0) return undefined;
      break;
    }
    if (tag.startsWith('FFFE')) return undefined;
    const vr = dictionaryVr(tag);
    let el: DicomElement;
    if (length === UNDEFINED_LENGTH) {
      // Only a sequence may have an undefined length here (no Pixel Data inside an item).
      if (vr !== 'SQ' && vr !== 'UN') return undefined;
      const nested = implicitItems(bytes, pos, end, true, conv, depth + 1);
      if (!nested) return undefined;
      el = { tag, vr: 'SQ', items: nested.items };
      pos = nested.next;
    } else {
      if (pos + length > end) return undefined;
      if (vr === 'SQ') {
        const nested = implicitItems(bytes, pos, pos + length, false, conv, depth + 1);
        if (!nested) return undefined;
        el = { tag, vr: 'SQ', items: nested.items };
      } else {
        el = { tag, vr, value: bytes.subarray(pos, pos + length) };
      }
      pos += length;
    }
    // The same elements convertDataSet leaves out: group lengths and trailing padding (unless raw).
    if (!conv.raw && ((tag.endsWith('0000') && !tag.startsWith('0000')) || tag === 'FFFCFFFC')) continue;
    ds.push(el);
  }
  ds.sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  return { ds, next: pos };
}
