import { SlideError } from '../../../shared/errors.ts';
import type { FieldClass } from '../../formats/slide-format.ts';
import { displayText, latin1Bytes } from '../../tiff/tifflike.ts';
import type { StructuredText, TextPart } from '../../tiff/vendor-profile.ts';
import { cutSpans, localName, parseXml, type XmlAttribute, type XmlElement, type XmlNode, type XmlSpan } from '../../xml/xml-tree.ts';
import { freeTextRuns } from '../../redact/encodings.ts';

/**
 * OME-XML (the first ImageDescription of an OME-TIFF), reduced by ALLOWLIST to what describes the
 * pixels: the Image/Pixels/Channel ids, Pixels sizes, type, dimension order, physical pixel size
 * (MPP), Channel SamplesPerPixel, TiffData (which IFD holds the plane) and the namespace
 * declarations. Everything else — experimenters, names, dates, descriptions, annotations,
 * instruments, plane positions, comments, any element or attribute this module does not know —
 * is a reviewable part of class 'phi' and is CUT out of the original text on rebuild (never
 * re-serialised: the result is shorter and every byte kept is one the writer wrote).
 * Allowlisted values must have their expected shape (an integer, an id, an enum); a value that
 * does not is refused (UNSUPPORTED), so the skeleton kept cannot carry text.
 * `source` is latin-1 (one char per byte), so spans are byte offsets.
 */

export interface OmeImage {
  /** Position of the Image element (series index). */
  series: number;
  /** Decoded Image Name (may be identifying: only compared, never logged). */
  name: string;
  /** Main-chain IFD index of the image's (single) plane. */
  ifd: number;
  sizeX: number;
  sizeY: number;
  /** Z x T x channel planes (channels counted after SamplesPerPixel interleaving). */
  planes: number;
  /** Micrometres per pixel from PhysicalSizeX/Y, when both are given in a length unit. */
  mpp?: { x: number; y: number };
  /** Whole Image element (removed together with a label/macro image). */
  span: XmlSpan;
}

export interface OmeXml {
  images: OmeImage[];
  text: StructuredText;
}

/** Cheap test for detect(): an XML description whose root element is OME. */
export function looksLikeOmeXml(desc: string | undefined): boolean {
  if (!desc) return false;
  const head = desc.slice(0, 4096);
  return /<([A-Za-z_][\w.-]*:)?OME[\s>/]/.test(head) && head.includes('openmicroscopy.org/Schemas/OME');
}

/** Names an associated (non-slide) series carries: QuPath, Bio-Formats ("label image"), OpenSlide-style. */
export function associatedKind(name: string): 'label' | 'macro' | 'thumbnail' | undefined {
  const m = /^\s*(label|macro|overview|thumbnail)(\s+image)?\s*$/i.exec(name);
  if (!m) return undefined;
  const w = m[1]!.toLowerCase();
  return w === 'label' ? 'label' : w === 'thumbnail' ? 'thumbnail' : 'macro';
}

const INT = /^\d{1,10}$/;
const NUM = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const ID = /^([A-Za-z]+:[A-Za-z0-9:._-]{1,60}|urn:lsid:[A-Za-z0-9:._-]{1,120})$/;
const URI = /^https?:\/\/[A-Za-z0-9./_:#-]{1,200}$/;
const TYPES = new Set(['int8', 'int16', 'int32', 'uint8', 'uint16', 'uint32', 'float', 'double', 'complex', 'double-complex', 'bit']);
/** Length units → micrometres (OME UnitsLength), as decoded UTF-8. */
const UNIT_UM: Record<string, number> = { '\u00b5m': 1, '\u03bcm': 1, um: 1, nm: 1e-3, pm: 1e-6, 'Å': 1e-4, mm: 1e3, cm: 1e4, m: 1e6 };

type Shape = (v: string) => boolean;
const isInt: Shape = (v) => INT.test(v);
const isId: Shape = (v) => ID.test(v);
const isBool: Shape = (v) => v === 'true' || v === 'false';
const isUnit: Shape = (v) => Object.hasOwn(UNIT_UM, displayText(latin1Bytes(v)));

/** Allowlisted attributes per element, with the shape their value must have. */
const KEEP: Record<string, Record<string, Shape>> = {
  Image: { ID: isId },
  Pixels: {
    ID: isId, DimensionOrder: (v) => /^XY[ZCT]{3}$/.test(v) && new Set(v.slice(2)).size === 3, Type: (v) => TYPES.has(v),
    SizeX: isInt, SizeY: isInt, SizeZ: isInt, SizeC: isInt, SizeT: isInt, PhysicalSizeXUnit: isUnit, PhysicalSizeYUnit: isUnit,
    SignificantBits: isInt, BigEndian: isBool, Interleaved: isBool,
  },
  Channel: { ID: isId, SamplesPerPixel: isInt },
  TiffData: { IFD: isInt, PlaneCount: isInt, FirstZ: isInt, FirstC: isInt, FirstT: isInt },
};

/** Elements removed whole, with the review label and why. */
const REMOVED_ELEMENTS: Record<string, [string, string]> = {
  Experimenter: ['Experimenter', 'person (name, e-mail, user name)'],
  ExperimenterGroup: ['Experimenter group', 'people and their group'],
  Instrument: ['Instrument', 'device identity (models, serial numbers)'],
  Project: ['Project', 'project name and description'],
  Dataset: ['Dataset', 'dataset name and description'],
  Folder: ['Folder', 'folder name and description'],
  Plate: ['Plate', 'plate name and description'],
  Screen: ['Screen', 'screen name and description'],
  ROI: ['Regions of interest', 'annotations drawn on the slide'],
  StructuredAnnotations: ['Annotations', 'free-form annotations (key/value data, comments)'],
  Rights: ['Rights', 'rights holder (free text)'],
  AcquisitionDate: ['Acquisition date', 'scan date and time'],
  Description: ['Description', 'free text'],
  ExperimenterRef: ['Experimenter reference', 'link to a person'],
  ExperimenterGroupRef: ['Experimenter group reference', 'link to a group'],
  InstrumentRef: ['Instrument reference', 'link to a device'],
  ObjectiveSettings: ['Objective settings', 'link to a device'],
  ImagingEnvironment: ['Imaging environment', 'acquisition conditions'],
  StageLabel: ['Stage label', 'stage position with a free-text name'],
  ROIRef: ['Region reference', 'link to annotations'],
  MicrobeamManipulationRef: ['Microbeam reference', 'link to an experiment'],
  AnnotationRef: ['Annotation reference', 'link to annotations'],
  Plane: ['Plane', 'plane timing and stage position: not on the reviewed list'],
  LightPath: ['Light path', 'optical set-up: not on the reviewed list'],
  DetectorSettings: ['Detector settings', 'device settings: not on the reviewed list'],
  LightSourceSettings: ['Light source settings', 'device settings: not on the reviewed list'],
  FilterSetRef: ['Filter set reference', 'link to a device'],
  UUID: ['Original file reference', 'file name and identifier of the original file'],
};

/** Attributes removed by name (known to OME, not on the allowlist), with the review label. */
const REMOVED_ATTRIBUTES: Record<string, string> = {
  'OME@UUID': 'File identifier (UUID)',
  'OME@Creator': 'Creating software',
  'Image@Name': 'Image name',
  'Channel@Name': 'Channel name',
  'Channel@Color': 'Channel colour',
  'Channel@Fluor': 'Fluorophore',
  'Channel@EmissionWavelength': 'Emission wavelength',
  'Channel@ExcitationWavelength': 'Excitation wavelength',
  'Channel@IlluminationType': 'Illumination type',
  'Channel@AcquisitionMode': 'Acquisition mode',
  'Channel@ContrastMethod': 'Contrast method',
  'Pixels@PhysicalSizeZ': 'Physical size Z',
  'Pixels@PhysicalSizeZUnit': 'Physical size Z unit',
  'Pixels@TimeIncrement': 'Time increment',
  'Pixels@TimeIncrementUnit': 'Time increment unit',
};

const XML_DECLARATION = /^<\?xml version="1\.[0-9]"( encoding="[A-Za-z0-9_-]{1,20}")?( standalone="(yes|no)")?\s*\?>$/;

class PartsBuilder {
  readonly parts: TextPart[] = [];
  readonly spans: XmlSpan[] = [];
  constructor(readonly source: string) {}

  add(id: string, label: string, cls: FieldClass, reason: string, span: XmlSpan, value: string, sweep: Uint8Array[]): void {
    this.parts.push({ id: `ome:${id}`, label, value, class: cls, reason, sweep });
    this.spans.push(span);
  }

  attribute(el: string, a: XmlAttribute, cls: FieldClass = 'phi', reason?: string): void {
    const key = `${el}@${localName(a.name)}`;
    const known = REMOVED_ATTRIBUTES[key];
    if (known || cls !== 'phi') {
      this.add(key, known ?? `${el} ${localName(a.name)}`, cls, reason ?? 'OME-XML attribute not on the reviewed list', a, show(a.value), this.attrSweep(a));
    } else {
      this.add('unknown-attribute', `Unknown attribute of ${el} in the OME-XML`, 'phi', 'unknown OME-XML attribute: treated as identifying', a, show(a.value), this.attrSweep(a));
    }
  }

  element(e: XmlElement, where: string): void {
    const name = localName(e.name);
    const known = REMOVED_ELEMENTS[name];
    const values = collectValues(this.source, e);
    const display = values.display.length > 0 ? values.display.join(' / ').slice(0, 300) : `<${known ? name : 'element'}>`;
    if (known) this.add(`${where}/${name}`, known[0], 'phi', known[1], e, display, values.sweep);
    else this.add('unknown-element', `Unknown element in ${where} of the OME-XML`, 'phi', 'unknown OME-XML element: treated as identifying', e, display, values.sweep);
  }

  other(n: XmlNode): void {
    const raw = this.source.slice(n.start, n.end);
    if (n.kind === 'text') {
      this.add('text', 'Text in the OME-XML', 'phi', 'free text where the OME schema has none: treated as identifying', n, show(n.text.trim()), [...sweepOf(raw.trim(), n.text.trim()), ...freeTextRuns(n.text).slice(1).map(latin1Bytes)]);
    } else {
      this.add('comment', 'Comment in the OME-XML', 'phi', 'comments and processing instructions are always removed', n, show(raw), freeTextRuns(raw).map(latin1Bytes));
    }
  }

  private attrSweep(a: XmlAttribute): Uint8Array[] {
    const raw = this.source.slice(a.start, a.end);
    const q = raw.indexOf('=');
    const inner = raw.slice(q + 1).trim().slice(1, -1);
    return sweepOf(inner, a.value);
  }
}

function show(latin1Text: string): string {
  return displayText(latin1Bytes(latin1Text));
}

/** The bytes as stored (raw) and, when different and byte-sized, the decoded form. */
function sweepOf(raw: string, decoded?: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  if (raw.length > 0) out.push(latin1Bytes(raw));
  if (decoded !== undefined && decoded !== raw && decoded.length > 0 && [...decoded].every((c) => c.charCodeAt(0) <= 0xff)) out.push(latin1Bytes(decoded));
  return out;
}

/** Every attribute value and text inside an element (for display and the sweep). */
function collectValues(source: string, e: XmlElement): { display: string[]; sweep: Uint8Array[] } {
  const display: string[] = [];
  const sweep: Uint8Array[] = [];
  const walk = (el: XmlElement) => {
    for (const a of el.attributes) {
      if (a.name === 'xmlns' || a.name.startsWith('xmlns:')) continue;
      display.push(show(a.value));
      const raw = source.slice(a.start, a.end);
      sweep.push(...sweepOf(raw.slice(raw.indexOf('=') + 1).trim().slice(1, -1), a.value));
    }
    for (const c of el.children) {
      if (c.kind === 'element') walk(c);
      else if (c.kind === 'text' && c.text.trim() !== '') {
        display.push(show(c.text.trim()));
        sweep.push(...sweepOf(source.slice(c.start, c.end).trim(), c.text.trim()));
      } else if (c.kind !== 'text') sweep.push(...sweepOf(source.slice(c.start, c.end)));
    }
  };
  walk(e);
  return { display, sweep };
}

function refuse(problem: string): never {
  throw new SlideError('UNSUPPORTED', `the OME-XML ${problem}`);
}

/** Keep an allowlisted attribute whose value has the right shape; refuse a wrong shape. */
function checkKept(el: string, a: XmlAttribute): boolean {
  const shape = KEEP[el]?.[localName(a.name)];
  if (!shape || a.name.includes(':')) return false;
  if (!shape(a.value)) refuse(`has an unexpected value in ${el} ${a.name}`);
  return true;
}

function isNamespace(a: XmlAttribute): boolean {
  if (a.name === 'xmlns' || a.name.startsWith('xmlns:')) return URI.test(a.value);
  if (localName(a.name) === 'schemaLocation' && a.name.includes(':')) return a.value.trim().split(/\s+/).every((u) => URI.test(u));
  return false;
}

/** Parse and classify an OME-XML description (latin-1 string). Throws SlideError on what it refuses. */
export function parseOmeXml(source: string): OmeXml {
  const doc = parseXml(source, 'the OME-XML description');
  const b = new PartsBuilder(source);
  for (const n of [...doc.prolog, ...doc.epilog]) {
    if (n.kind === 'pi' && doc.prolog.indexOf(n) === 0 && XML_DECLARATION.test(source.slice(n.start, n.end))) continue;
    if (n.kind === 'text' && n.text.trim() === '') continue;
    b.other(n);
  }
  const root = doc.root;
  if (localName(root.name) !== 'OME') throw new SlideError('NOT_RECOGNIZED', 'the description is XML but not OME-XML');
  for (const a of root.attributes) if (!isNamespace(a)) b.attribute('OME', a);
  const images: OmeImage[] = [];
  for (const c of root.children) {
    if (c.kind !== 'element') {
      if (c.kind !== 'text' || c.text.trim() !== '') b.other(c);
      continue;
    }
    const name = localName(c.name);
    if (name === 'BinaryOnly') refuse('points to metadata in a companion file (multi-file OME-TIFF is not supported yet)');
    if (name === 'Image') {
      const img = readImage(b, c, images.length);
      const kind = associatedKind(img.name);
      if (kind === 'label' || kind === 'macro') {
        // Goes with its image: an output without the label IFD must not describe it any more.
        b.add(`Image (${kind})`, `Description of the ${kind} image`, 'phi', `describes the ${kind} image, removed with it`, c, `${kind} image`, []);
      }
      images.push(img);
    }
    else b.element(c, 'OME');
  }
  if (images.length === 0) refuse('describes no image');
  const { parts, spans } = b;
  return {
    images,
    text: {
      parts,
      rebuild: (keep) => latin1Bytes(cutSpans(source, spans.filter((_, i) => !keep(i)))),
    },
  };
}

function readImage(b: PartsBuilder, image: XmlElement, series: number): OmeImage {
  let name = '';
  for (const a of image.attributes) {
    if (localName(a.name) === 'Name') name = displayText(latin1Bytes(a.value));
    if (!checkKept('Image', a)) b.attribute('Image', a);
  }
  let pixels: OmeImage | undefined;
  for (const c of image.children) {
    if (c.kind !== 'element') {
      if (c.kind !== 'text' || c.text.trim() !== '') b.other(c);
      continue;
    }
    if (localName(c.name) === 'Pixels') {
      if (pixels) refuse('has an image with two Pixels elements');
      pixels = readPixels(b, c, series, name, image);
    } else b.element(c, 'Image');
  }
  if (!pixels) refuse('has an image without pixels');
  return pixels;
}

function readPixels(b: PartsBuilder, px: XmlElement, series: number, name: string, image: XmlElement): OmeImage {
  const v: Record<string, string> = {};
  for (const a of px.attributes) {
    const n = localName(a.name);
    if (n === 'PhysicalSizeX' || n === 'PhysicalSizeY') {
      // Shown for review (the MPP), never removable: numbers only, else refused.
      if (!NUM.test(a.value)) refuse(`has an unexpected value in Pixels ${n}`);
      v[n] = a.value;
      b.attribute('Pixels', a, 'critical', 'pixel size (MPP)');
      continue;
    }
    if (checkKept('Pixels', a)) v[n] = a.value;
    else b.attribute('Pixels', a);
  }
  for (const k of ['SizeX', 'SizeY', 'SizeZ', 'SizeC', 'SizeT', 'DimensionOrder', 'Type']) if (v[k] === undefined) refuse(`has Pixels without ${k}`);
  const channels: number[] = [];
  const tiffData: { ifd: number; planeCount?: number }[] = [];
  for (const c of px.children) {
    if (c.kind !== 'element') {
      if (c.kind !== 'text' || c.text.trim() !== '') b.other(c);
      continue;
    }
    const n = localName(c.name);
    if (n === 'BinData' || n === 'MetadataOnly') refuse('stores pixels outside the TIFF (BinData/MetadataOnly), which is not supported');
    if (n === 'Channel') channels.push(readChannel(b, c));
    else if (n === 'TiffData') tiffData.push(readTiffData(b, c));
    else b.element(c, 'Pixels');
  }
  const sizeC = Number(v.SizeC);
  const spp = channels[0] ?? 1;
  const effectiveC = channels.length > 0 ? channels.length : Math.max(1, Math.ceil(sizeC / spp));
  const planes = Number(v.SizeZ) * Number(v.SizeT) * effectiveC;
  if (tiffData.length === 0) refuse('has an image without TiffData');
  const img: OmeImage = {
    series, name, ifd: tiffData[0]!.ifd, sizeX: Number(v.SizeX), sizeY: Number(v.SizeY),
    planes: Math.max(planes, tiffData.length, tiffData[0]!.planeCount ?? 1), span: { start: image.start, end: image.end },
  };
  const mpp = physicalMpp(v);
  if (mpp) img.mpp = mpp;
  return img;
}

function readChannel(b: PartsBuilder, ch: XmlElement): number {
  let spp = 1;
  for (const a of ch.attributes) {
    if (checkKept('Channel', a)) {
      if (localName(a.name) === 'SamplesPerPixel') spp = Math.max(1, Number(a.value));
    } else b.attribute('Channel', a);
  }
  for (const c of ch.children) {
    if (c.kind === 'element') b.element(c, 'Channel');
    else if (c.kind !== 'text' || c.text.trim() !== '') b.other(c);
  }
  return spp;
}

function readTiffData(b: PartsBuilder, td: XmlElement): { ifd: number; planeCount?: number } {
  const out: { ifd: number; planeCount?: number } = { ifd: 0 };
  for (const a of td.attributes) {
    if (!checkKept('TiffData', a)) {
      b.attribute('TiffData', a);
      continue;
    }
    const n = localName(a.name);
    if (n === 'IFD') out.ifd = Number(a.value);
    if (n === 'PlaneCount') out.planeCount = Number(a.value);
  }
  for (const c of td.children) {
    if (c.kind === 'element') b.element(c, 'TiffData');
    else if (c.kind !== 'text' || c.text.trim() !== '') b.other(c);
  }
  return out;
}

function physicalMpp(v: Record<string, string>): { x: number; y: number } | undefined {
  const factor = (unit: string | undefined) => (unit === undefined ? 1 : UNIT_UM[displayText(latin1Bytes(unit))]);
  const fx = factor(v.PhysicalSizeXUnit);
  const fy = factor(v.PhysicalSizeYUnit);
  if (v.PhysicalSizeX === undefined || v.PhysicalSizeY === undefined || fx === undefined || fy === undefined) return undefined;
  return { x: Number(v.PhysicalSizeX) * fx, y: Number(v.PhysicalSizeY) * fy };
}
