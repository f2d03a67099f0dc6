import { SlideError } from '../../../shared/errors.ts';
import type { FieldClass } from '../slide-format.ts';
import { attr, elements, localName, parseXml, textOf, type XmlAttribute, type XmlDocument, type XmlElement, type XmlNode, type XmlSpan } from '../../xml/xml-tree.ts';
import { displayText, latin1, latin1Bytes } from '../../tiff/tifflike.ts';
import { decodeBase64 } from '../../codecs/base64.ts';
import type { StructuredText, TextPart } from '../../tiff/vendor-profile.ts';
import { freeTextRuns } from '../../redact/encodings.ts';

/**
 * The Leica SCN XML (first IFD's ImageDescription) as OpenSlide reads it: one collection (size in
 * nm, barcode), images with a view (size/offset in nm) and pixel dimensions, each naming the IFD
 * that holds it. An image whose view covers the whole collection at (0,0) is the macro (a photo
 * of the whole slide, label included). Every element and attribute is classified: what OpenSlide
 * needs to read the slide is kept, what identifies (barcode, names, UUIDs, dates) and whatever is
 * not on the list below is a 'phi' part, so the kept skeleton cannot carry identifying text.
 */

export const LEICA_NAMESPACES = ['http://www.leica-microsystems.com/scn/2010/10/01', 'http://www.leica-microsystems.com/scn/2010/03/10'] as const;

export interface ScnDimension {
  ifd: number;
  width: number;
  height: number;
  ifdAttr: XmlAttribute;
}

export interface ScnImage {
  element: XmlElement;
  isMacro: boolean;
  illumination: string | undefined;
  /** View in nm. */
  view: { width: number; height: number; x: number; y: number };
  dimensions: ScnDimension[];
}

export interface ScnPart extends TextPart {
  spans: XmlSpan[];
}

export interface ScnModel {
  doc: XmlDocument;
  collection: { width: number; height: number };
  images: ScnImage[];
  parts: ScnPart[];
}

const NUMBER = /^\s*-?\d+(\.\d+)?\s*$/;
const INTEGER = /^\s*\d+\s*$/;
/** Device model and software version as Leica writes them ("Leica SCN400;Leica SCN", "1.4.0.10536 2011/12/14 13:41:22"). */
const DEVICE_TEXT = /^[A-Za-z0-9 ;.,:/()_+-]{0,100}$/;
const XML_DECLARATION = /^<\?xml version="1\.0"( encoding="[A-Za-z0-9_-]+")?( standalone="(yes|no)")? ?\?>$/;
const XSI = 'http://www.w3.org/2001/XMLSchema-instance';

type AttrRule = { class: FieldClass; id: string; label: string; reason: string; check?: RegExp };
type ElemRule = { attrs: Record<string, AttrRule>; children: string[]; text?: AttrRule };

const crit = (id: string, label: string, check: RegExp = INTEGER): AttrRule => ({ class: 'critical', id: `scn:${id}`, label, reason: 'needed by OpenSlide to read the slide', check });
const phi = (id: string, label: string, reason: string): AttrRule => ({ class: 'phi', id: `scn:${id}`, label, reason });
const neutral = (id: string, label: string, reason: string, check: RegExp): AttrRule => ({ class: 'neutral', id: `scn:${id}`, label, reason, check });

/** The schema OpenSlide reads, by local element name. Anything else is identifying. */
const SCHEMA: Record<string, ElemRule> = {
  scn: { attrs: {}, children: ['collection'] },
  collection: {
    attrs: {
      name: phi('collection-name', 'Collection name', 'slide name (often a case number)'),
      uuid: phi('collection-uuid', 'Collection UUID', 'unique identifier of the scan'),
      barcode: phi('barcode', 'Barcode', 'slide barcode'),
      sizeX: crit('collection-size', 'Collection size (nm)'),
      sizeY: crit('collection-size', 'Collection size (nm)'),
    },
    children: ['barcode', 'image'],
  },
  barcode: { attrs: {}, children: [], text: phi('barcode', 'Barcode', 'slide barcode') },
  image: {
    attrs: {
      name: phi('image-name', 'Image name', 'image name (may hold a case number)'),
      uuid: phi('image-uuid', 'Image UUID', 'unique identifier of the scan'),
    },
    children: ['creationDate', 'device', 'pixels', 'view', 'scanSettings'],
  },
  creationDate: { attrs: {}, children: [], text: phi('creation-date', 'Creation date', 'scan date and time') },
  device: {
    attrs: {
      model: neutral('device-model', 'Device model', 'scanner model', DEVICE_TEXT),
      version: neutral('device-version', 'Device software version', 'scanner software version', DEVICE_TEXT),
    },
    children: [],
  },
  pixels: { attrs: { sizeX: crit('pixels-size', 'Image size (pixels)'), sizeY: crit('pixels-size', 'Image size (pixels)') }, children: ['dimension'] },
  dimension: {
    attrs: {
      sizeX: crit('dimension-size', 'Level size (pixels)'),
      sizeY: crit('dimension-size', 'Level size (pixels)'),
      r: crit('dimension-r', 'Level number'),
      ifd: crit('dimension-ifd', 'Level image directory'),
      z: crit('dimension-z', 'Focal plane'),
      c: crit('dimension-c', 'Channel'),
    },
    children: [],
  },
  view: {
    attrs: {
      sizeX: crit('view-size', 'Image size (nm)'),
      sizeY: crit('view-size', 'Image size (nm)'),
      offsetX: crit('view-offset', 'Image position (nm)'),
      offsetY: crit('view-offset', 'Image position (nm)'),
      spacingZ: neutral('view-spacing-z', 'Focal plane spacing (nm)', 'numbers only', NUMBER),
    },
    children: [],
  },
  scanSettings: { attrs: {}, children: ['objectiveSettings', 'illuminationSettings'] },
  objectiveSettings: { attrs: {}, children: ['objective'] },
  objective: { attrs: {}, children: [], text: crit('objective', 'Objective', NUMBER) },
  illuminationSettings: { attrs: {}, children: ['numericalAperture', 'illuminationSource'] },
  numericalAperture: { attrs: {}, children: [], text: neutral('numerical-aperture', 'Numerical aperture', 'numbers only', NUMBER) },
  illuminationSource: { attrs: {}, children: [], text: crit('illumination-source', 'Illumination source', /^\s*(brightfield|fluorescence)\s*$/) },
};

/** Parse and classify the Leica XML; refuses what OpenSlide could not read or we do not support. */
export function parseScnXml(source: string): ScnModel {
  const doc = parseXml(source, 'the Leica XML');
  const root = doc.root;
  const ns = attr(root, 'xmlns');
  if (localName(root.name) !== 'scn' || root.name !== 'scn' || !LEICA_NAMESPACES.includes(ns as (typeof LEICA_NAMESPACES)[number])) {
    throw new SlideError('UNSUPPORTED', 'Leica SCN whose XML is not in a known Leica namespace is not supported');
  }
  const parts: ScnPart[] = [];
  const add = (rule: AttrRule, value: string, spans: XmlSpan[], sweep: string[] = [value]) => {
    parts.push({ id: rule.id, label: rule.label, value: displayText(latin1Bytes(value)), class: rule.class, reason: rule.reason, spans, sweep: sweep.filter((s) => s.trim() !== '').map((s) => latin1Bytes(s)) });
  };
  for (const n of [...doc.prolog, ...doc.epilog]) {
    if (n.kind === 'text') continue;
    const raw = source.slice(n.start, n.end);
    if (n.kind === 'pi' && n === doc.prolog[0] && XML_DECLARATION.test(raw)) continue;
    add(phi('comment', 'Comment or processing instruction', 'free text outside the slide description'), raw, [n], freeTextRuns(raw));
  }
  classifyElement(root, SCHEMA.scn!, add, source, true);

  const collections = elements(root, 'collection');
  if (collections.length !== 1) throw new SlideError('UNSUPPORTED', `Leica SCN with ${collections.length} collections is not supported yet`);
  const col = collections[0]!;
  const collection = { width: int(col, 'sizeX', 'the collection'), height: int(col, 'sizeY', 'the collection') };
  const images = elements(col, 'image').map((el) => readImage(el, collection));
  if (images.length === 0) throw new SlideError('CORRUPT', 'the Leica XML lists no image');
  return { doc, collection, images, parts };
}

type Add = (rule: AttrRule, value: string, spans: XmlSpan[], sweep?: string[]) => void;

function classifyElement(el: XmlElement, rule: ElemRule, add: Add, source: string, isRoot = false): void {
  for (const a of el.attributes) {
    if (isRoot && (a.name === 'xmlns' || a.name.startsWith('xmlns:') || a.name === 'xsi:schemaLocation')) {
      if (a.name === 'xmlns') continue; // checked by the caller: one of Leica's namespaces
      const ok = a.name === 'xmlns:xsi' ? a.value === XSI : a.name === 'xsi:schemaLocation' && /^\s*http:\/\/www\.leica-microsystems\.com\/scn\/[\d/]+\s+[A-Za-z0-9:/._-]+\s*$/.test(a.value);
      if (ok) continue;
    }
    const r = rule.attrs[a.name];
    if (r && (!r.check || r.check.test(a.value))) add(r, a.value, [a]);
    else if (r && r.class === 'critical') throw new SlideError('CORRUPT', `the Leica XML has an invalid ${r.label.toLowerCase()}`);
    else add(r ? { ...r, class: 'phi', reason: `${r.reason}, but not in the expected form: treated as identifying` } : phi('unknown-attribute', `Unknown attribute ${a.name}`, 'not on the reviewed list of Leica attributes: treated as identifying'), a.value, [a]);
  }
  for (const c of el.children) classifyChild(el, c, rule, add, source);
}

function classifyChild(parent: XmlElement, c: XmlNode, rule: ElemRule, add: Add, source: string): void {
  if (c.kind === 'text') {
    if (c.text.trim() === '' || rule.text) return;
    add(phi('unknown-text', `Text in ${localName(parent.name)}`, 'not on the reviewed list of Leica values: treated as identifying'), c.text, [c], freeTextRuns(c.text));
    return;
  }
  if (c.kind !== 'element') {
    add(phi('comment', 'Comment or processing instruction', 'free text inside the slide description'), source.slice(c.start, c.end), [c], freeTextRuns(source.slice(c.start, c.end)));
    return;
  }
  const name = localName(c.name);
  const child = SCHEMA[name];
  if (!child || !rule.children.includes(name) || c.name !== name) {
    add(phi('unknown-element', `Unknown element ${c.name}`, 'not on the reviewed list of Leica elements: treated as identifying'), allText(c), [c], allValues(c));
    return;
  }
  if (child.text) {
    const text = textOf(c);
    const r = child.text;
    if (r.check && !r.check.test(text)) {
      if (r.class === 'critical') throw new SlideError('CORRUPT', `the Leica XML has an invalid ${r.label.toLowerCase()}`);
      add({ ...r, class: 'phi', reason: `${r.reason}, but not in the expected form: treated as identifying` }, text, [c]);
    } else if (r.class === 'phi') {
      // The whole element goes: OpenSlide reads it only for a property.
      add(r, text.trim(), [c], name === 'barcode' ? [text.trim(), ...decodedBarcode(text)] : [text.trim()]);
    } else add(r, text.trim(), textSpans(c));
  }
  classifyElement(c, child, add, source);
}

/** The barcode as OpenSlide reports it (2010/10/01 stores it base64-encoded): swept too. */
function decodedBarcode(text: string): string[] {
  const bytes = decodeBase64(text.trim());
  return bytes && bytes.length > 0 ? [latin1(bytes)] : [];
}

function textSpans(e: XmlElement): XmlSpan[] {
  return e.children.filter((c) => c.kind === 'text');
}

function allText(e: XmlElement): string {
  return allValues(e).join(' ').slice(0, 200);
}

function allValues(e: XmlElement): string[] {
  const out: string[] = [];
  const walk = (x: XmlElement) => {
    for (const a of x.attributes) out.push(a.value);
    for (const c of x.children) {
      if (c.kind === 'text' && c.text.trim()) out.push(c.text.trim());
      else if (c.kind === 'element') walk(c);
    }
  };
  walk(e);
  return out;
}

function int(e: XmlElement, name: string, what: string): number {
  const v = attr(e, name);
  if (v === undefined || !INTEGER.test(v)) throw new SlideError('CORRUPT', `${what} in the Leica XML has no valid ${name}`);
  return Number(v);
}

function readImage(el: XmlElement, collection: { width: number; height: number }): ScnImage {
  const views = elements(el, 'view');
  if (views.length !== 1) throw new SlideError('CORRUPT', 'an image in the Leica XML has no single view');
  const v = views[0]!;
  const view = { width: int(v, 'sizeX', 'an image view'), height: int(v, 'sizeY', 'an image view'), x: int(v, 'offsetX', 'an image view'), y: int(v, 'offsetY', 'an image view') };
  const isMacro = view.x === 0 && view.y === 0 && view.width === collection.width && view.height === collection.height;
  const pixels = elements(el, 'pixels');
  if (pixels.length !== 1) throw new SlideError('CORRUPT', 'an image in the Leica XML has no single pixels element');
  const dims = elements(pixels[0]!, 'dimension');
  if (dims.length === 0) throw new SlideError('CORRUPT', 'an image in the Leica XML has no dimensions');
  const dimensions = dims.map((d): ScnDimension => {
    for (const k of ['z', 'c'] as const) {
      const x = attr(d, k);
      if (x !== undefined && Number(x) !== 0) {
        throw new SlideError('UNSUPPORTED', k === 'z' ? 'Leica SCN with several focal planes is not supported yet' : 'Leica SCN with several channels (fluorescence) is not supported yet');
      }
    }
    return { ifd: int(d, 'ifd', 'a dimension'), width: int(d, 'sizeX', 'a dimension'), height: int(d, 'sizeY', 'a dimension'), ifdAttr: d.attributes.find((a) => a.name === 'ifd')! };
  });
  const illum = elements(el, 'scanSettings').flatMap((s) => elements(s, 'illuminationSettings')).flatMap((s) => elements(s, 'illuminationSource'));
  return { element: el, isMacro, illumination: illum[0] ? textOf(illum[0]).trim() : undefined, view, dimensions };
}

/**
 * The XML without `dropped` parts and `droppedImages`, with dimension IFD numbers renumbered
 * (`renumber`: old → new). Numbers only ever get smaller (removed directories come out of the
 * chain) and every edit is a cut or a shorter replacement, so the result is never longer.
 */
export function rebuildScnXml(model: ScnModel, dropped: ReadonlySet<number>, droppedImages: readonly ScnImage[], renumber?: ReadonlyMap<number, number>): string {
  const cuts: XmlSpan[] = [];
  model.parts.forEach((p, i) => {
    if (dropped.has(i)) cuts.push(...p.spans);
  });
  for (const img of droppedImages) cuts.push(img.element);
  const edits: { start: number; end: number; text: string }[] = cuts.map((s) => ({ start: s.start, end: s.end, text: '' }));
  if (renumber) {
    for (const img of model.images) {
      for (const d of img.dimensions) {
        const n = renumber.get(d.ifd);
        if (n === undefined || n === d.ifd) continue;
        if (n > d.ifd) throw new SlideError('INTERNAL', 'an image directory number would grow');
        edits.push({ start: d.ifdAttr.start, end: d.ifdAttr.end, text: ` ifd="${n}"` });
      }
    }
  }
  edits.sort((a, b) => a.start - b.start || b.end - a.end);
  const src = model.doc.source;
  let out = '';
  let at = 0;
  for (const e of edits) {
    if (e.end <= at) continue; // inside a cut already made
    if (e.start < at) {
      at = Math.max(at, e.end);
      continue;
    }
    out += src.slice(at, e.start) + e.text;
    at = e.end;
  }
  out += src.slice(at);
  // Trailing NULs/padding inside the value are not part of the document.
  out = out.replace(/\0+$/, '');
  if (out.length > src.length) throw new SlideError('INTERNAL', 'the rebuilt Leica XML is longer than the original');
  return out;
}

/** The StructuredText the planner and the review use (cuts only: renumbering is the driver's plan). */
export function scnStructuredText(model: ScnModel): StructuredText {
  return {
    parts: model.parts,
    rebuild(keep) {
      const dropped = new Set<number>();
      model.parts.forEach((_, i) => {
        if (!keep(i)) dropped.add(i);
      });
      return latin1Bytes(rebuildScnXml(model, dropped, []));
    },
  };
}
