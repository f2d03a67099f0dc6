import { SlideError } from '../../../shared/errors.ts';
import { displayText, latin1Bytes } from '../../tiff/tifflike.ts';
import type { StructuredText, TextPart } from '../../tiff/vendor-profile.ts';
import { attr, cutSpans, elements, parseXml, textOf, type XmlElement, type XmlNode, type XmlSpan } from '../../xml/xml-tree.ts';
import { attributeRule, listedRule, phiReason, type AttributeContext } from './attributes.ts';
import { jpegSize } from '../../codecs/jpeg-size.ts';
import { decodeBase64 } from '../../codecs/base64.ts';
import { freeTextRuns } from '../../redact/encodings.ts';

/**
 * The Philips TIFF XML (first ImageDescription) as OpenSlide 3.4.1 reads it, split into
 * reviewable parts. What OpenSlide needs to open the file as Philips is structure or a 'critical'
 * part: the root <DataObject ObjectType="DPUfsImport">, the PIM_DP_SCANNED_IMAGES array with its
 * single WSI DataObject (PIM_DP_IMAGE_TYPE = WSI), the WSI's PIIM_PIXEL_DATA_REPRESENTATION_SEQUENCE
 * with one PixelDataRepresentation (DICOM_PIXEL_SPACING) per pyramid level, and DICOM_PIXEL_SPACING
 * (MPP). Every other <Attribute> is a part classified by attributes.ts (default: identifying);
 * LABELIMAGE/MACROIMAGE DataObjects (base64 JPEG in PIM_DP_IMAGE_DATA) are one part each and are
 * also shown as images. Comments, processing instructions, stray text and unexpected XML
 * attributes on kept elements are identifying parts too. The rebuild cuts dropped parts out of
 * the source text, so it is never longer and every byte kept is a byte Philips wrote. The XML
 * declaration (<?xml version=… encoding=…?>, strictly shaped) is structure, not a PI part.
 */

export interface Spacing {
  /** Millimetres per pixel, column (x) and row (y) direction. */
  x: number;
  y: number;
}

export interface PhilipsXmlImage {
  role: 'label' | 'overview';
  /** Index of the part (the whole DataObject) and its field id. */
  part: number;
  fieldId: string;
  jpeg: Uint8Array;
  width: number;
  height: number;
}

export interface PhilipsXml extends StructuredText {
  /** Pixel spacing of each PixelDataRepresentation, in document order (= pyramid levels). */
  levelSpacings: Spacing[];
  /** What becomes OpenSlide's philips.DICOM_PIXEL_SPACING (its MPP), if present. */
  spacing?: Spacing;
  /** Label/macro photographs embedded as base64 JPEG. */
  images: PhilipsXmlImage[];
}

const WHAT = 'the Philips XML description';
const ROOT_TYPE = 'DPUfsImport';
const ASSOCIATED: Record<string, { role: 'label' | 'overview'; label: string }> = {
  LABELIMAGE: { role: 'label', label: 'Label image (in the XML)' },
  MACROIMAGE: { role: 'overview', label: 'Macro image (in the XML)' },
};
const TYPE_WORDS = new Set(['WSI', ...Object.keys(ASSOCIATED)]);
/** XML attributes a kept element may carry, with the shape their value must have. */
const XML_ATTRS: Record<string, RegExp> = {
  Name: /^[A-Za-z0-9_]{1,80}$/,
  Group: /^0x[0-9A-Fa-f]{1,8}$/,
  Element: /^0x[0-9A-Fa-f]{1,8}$/,
  PMSVR: /^I[A-Za-z0-9]{1,40}$/,
  ObjectType: /^(?:DPUfsImport|DPScannedImage|PixelDataRepresentation)$/,
};
const XML_DECLARATION = /^<\?xml\s+version\s*=\s*["']1\.0["'](?:\s+encoding\s*=\s*["'][A-Za-z0-9._-]{1,20}["'])?(?:\s+standalone\s*=\s*["'](?:yes|no)["'])?\s*\?>$/;
/** Long values (base64 images) are swept by a slice: unique enough, and cheap to search. */
const SWEEP_SLICE = 64;

/** True when the text looks like Philips slide XML (cheap; for detection). */
export function looksLikePhilipsXml(text: string | undefined): boolean {
  return !!text && text.includes('<DataObject') && text.includes(ROOT_TYPE);
}

/** OpenSlide's parse: two tokens split on one space, quotes stripped, row spacing first. */
export function parseSpacing(text: string): Spacing | undefined {
  const tokens = text.split(' ');
  if (tokens.length !== 2) return undefined;
  const [row, col] = tokens.map((t) => t.replace(/"/g, ' ').trim().replace(/,/g, '.'));
  const num = /^[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$/;
  if (!num.test(row!) || !num.test(col!)) return undefined;
  const y = Number(row), x = Number(col);
  return x > 0 && y > 0 && Number.isFinite(x) && Number.isFinite(y) ? { x, y } : undefined;
}

/** Parse and split; throws SlideError for XML that is not Philips slide XML OpenSlide can read. */
export function parsePhilipsXml(source: string): PhilipsXml {
  const doc = parseXml(source, WHAT);
  const b = new PartBuilder(source);
  for (const n of [...doc.prolog, ...doc.epilog]) b.misc(n, true);
  const root = doc.root;
  if (root.name !== 'DataObject' || attr(root, 'ObjectType') !== ROOT_TYPE) {
    throw new SlideError('UNSUPPORTED', `${WHAT} is not a Philips DPUfsImport document`);
  }
  b.xmlAttributes(root);
  const model: Model & { scannedImages: number } = { levelSpacings: [], spacing: undefined, images: [], wsiCount: 0, scannedImages: 0 };
  b.children(root, (el) => {
    if (el.name !== 'Attribute') return b.unknownElement(el);
    const name = attr(el, 'Name') ?? '';
    if (name === 'PIM_DP_SCANNED_IMAGES') {
      if (++model.scannedImages > 1) throw new SlideError('UNSUPPORTED', 'Philips XML with more than one PIM_DP_SCANNED_IMAGES list is not supported');
      b.xmlAttributes(el);
      if (elements(el, 'Array').length > 1) throw new SlideError('UNSUPPORTED', 'Philips XML with more than one scanned image list is not supported');
      b.children(el, (array) => {
        if (array.name !== 'Array') return b.unknownElement(array);
        b.xmlAttributes(array);
        b.children(array, (obj) => scannedImage(b, obj, model));
      });
      return;
    }
    const spacing = b.attribute(el, 'top');
    if (spacing) model.spacing = spacing;
  });
  if (model.wsiCount !== 1) throw new SlideError('UNSUPPORTED', `Philips XML with ${model.wsiCount} whole-slide images (WSI) is not supported`);
  if (model.levelSpacings.length === 0) {
    throw new SlideError('UNSUPPORTED', 'Philips XML without per-level pixel spacing (PIIM_PIXEL_DATA_REPRESENTATION_SEQUENCE) is not supported');
  }
  return {
    parts: b.parts,
    rebuild: (keep) => latin1Bytes(cutSpans(source, b.spans.filter((_, i) => !keep(i)).flat())),
    levelSpacings: model.levelSpacings,
    ...(model.spacing ? { spacing: model.spacing } : {}),
    images: model.images,
  };
}

interface Model {
  levelSpacings: Spacing[];
  spacing: Spacing | undefined;
  images: PhilipsXmlImage[];
  wsiCount: number;
}

/** One DataObject of PIM_DP_SCANNED_IMAGES: the WSI (structure), a label/macro (an image part), or unknown. */
function scannedImage(b: PartBuilder, obj: XmlElement, model: Model): void {
  if (obj.name !== 'DataObject') return b.unknownElement(obj);
  const attrs = elements(obj, 'Attribute');
  const typeEls = attrs.filter((a) => attr(a, 'Name') === 'PIM_DP_IMAGE_TYPE');
  const type = typeEls.length === 1 ? textOf(typeEls[0]!) : undefined;
  // OpenSlide selects DataObjects by "some Attribute is PIM_DP_IMAGE_TYPE and some Attribute's
  // text is WSI/LABELIMAGE/…": a type word in another attribute would make it read this object
  // differently from us. Refuse rather than guess.
  const words = new Set(attrs.flatMap((a) => a.children.filter((c) => c.kind === 'text').map((c) => (c as { text: string }).text)).filter((t) => TYPE_WORDS.has(t)));
  if (typeEls.length > 0 && [...words].some((w) => w !== type)) {
    throw new SlideError('UNSUPPORTED', 'Philips XML with an ambiguous scanned image type is not supported');
  }
  if (type === 'WSI') {
    model.wsiCount++;
    wsiImage(b, obj, model);
    return;
  }
  const assoc = type ? ASSOCIATED[type] : undefined;
  if (!assoc) {
    b.whole(obj, 'philips:scanned-image', 'Scanned image of unknown type (in the XML)', 'not a kind of image the review knows: treated as identifying');
    return;
  }
  const n = model.images.filter((i) => i.role === assoc.role).length;
  const fieldId = `philips:${type}${n > 0 ? `-${n + 1}` : ''}`;
  const data = attrs.find((a) => attr(a, 'Name') === 'PIM_DP_IMAGE_DATA');
  const jpeg = data ? decodeBase64(textOf(data)) : undefined;
  const size = jpeg ? jpegSize(jpeg) : undefined;
  const value = jpeg && size ? `<JPEG image ${size.width}x${size.height}, ${jpeg.length} bytes>` : '<image data that cannot be decoded>';
  const part = b.whole(obj, fieldId, assoc.label, assoc.role === 'label' ? 'photograph of the slide label' : 'photograph of the whole slide with its label', value);
  if (jpeg && size) model.images.push({ role: assoc.role, part, fieldId, jpeg, width: size.width, height: size.height });
}

function wsiImage(b: PartBuilder, obj: XmlElement, model: Model): void {
  b.xmlAttributes(obj);
  let sequences = 0;
  b.children(obj, (el) => {
    if (el.name !== 'Attribute') return b.unknownElement(el);
    if (attr(el, 'Name') !== 'PIIM_PIXEL_DATA_REPRESENTATION_SEQUENCE') {
      const spacing = b.attribute(el, 'wsi');
      if (spacing) model.spacing = spacing;
      return;
    }
    if (++sequences > 1) throw new SlideError('UNSUPPORTED', 'Philips XML with more than one pixel data representation sequence is not supported');
    b.xmlAttributes(el);
    if (elements(el, 'Array').length > 1) throw new SlideError('UNSUPPORTED', 'Philips XML with more than one pixel data representation list is not supported');
    b.children(el, (array) => {
      if (array.name !== 'Array') return b.unknownElement(array);
      b.xmlAttributes(array);
      b.children(array, (rep) => {
        if (rep.name !== 'DataObject' || attr(rep, 'ObjectType') !== 'PixelDataRepresentation') return b.unknownElement(rep);
        b.xmlAttributes(rep);
        let spacing: Spacing | undefined;
        let count = 0;
        b.children(rep, (a) => {
          if (a.name !== 'Attribute') return b.unknownElement(a);
          const s = b.attribute(a, 'level');
          if (attr(a, 'Name') === 'DICOM_PIXEL_SPACING') count++;
          if (s) spacing = s;
        });
        if (count !== 1 || !spacing) throw new SlideError('UNSUPPORTED', 'a Philips pyramid level without exactly one pixel spacing is not supported');
        model.levelSpacings.push(spacing);
      });
    });
  });
}

/** Collects the parts and, per part, the spans its removal cuts. */
class PartBuilder {
  readonly parts: TextPart[] = [];
  readonly spans: XmlSpan[][] = [];
  constructor(readonly source: string) {}

  add(part: TextPart, spans: XmlSpan[]): number {
    this.parts.push(part);
    this.spans.push(spans.map((s) => this.withIndent(s)));
    return this.parts.length - 1;
  }

  /** An element's span with the blank line and indent before it, so a cut leaves no empty line. */
  withIndent(s: XmlSpan): XmlSpan {
    if (!('kind' in s) || (s as XmlNode).kind !== 'element') return s;
    let start = s.start;
    while (start > 0 && (this.source[start - 1] === ' ' || this.source[start - 1] === '\t')) start--;
    if (start > 0 && this.source[start - 1] === '\n') start--;
    if (start > 0 && this.source[start - 1] === '\r') start--;
    return { start, end: s.end };
  }

  /** Visit the child elements of a kept element; its text must be whitespace, comments go. */
  children(el: XmlElement, visit: (child: XmlElement) => void): void {
    for (const c of el.children) {
      if (c.kind === 'element') visit(c);
      else this.misc(c, false);
    }
  }

  /** Comments, PIs and non-blank text around kept elements are identifying parts; the XML declaration is structure. */
  misc(n: XmlNode, outside: boolean): void {
    if (n.kind === 'element') return this.unknownElement(n);
    const raw = this.source.slice(n.start, n.end);
    if (n.kind === 'text') {
      if (raw.trim() === '') return;
      this.add(freeTextPart('philips:xml-text', 'Unexpected text in the XML', 'free text outside any attribute: treated as identifying', n.text.trim()), [n]);
      return;
    }
    if (outside && n.kind === 'pi' && XML_DECLARATION.test(raw)) return;
    this.add(freeTextPart('philips:xml-comment', 'XML comment or processing instruction', 'free text: treated as identifying', raw), [n]);
  }

  /** XML attributes of a kept element: the known ones in their expected shape stay, others are parts. */
  xmlAttributes(el: XmlElement): void {
    for (const a of el.attributes) {
      const shape = XML_ATTRS[a.name];
      if (shape?.test(a.value)) continue;
      this.add(textPart('philips:xml-attribute', 'Unexpected XML attribute', 'not part of the Philips layout: treated as identifying', a.value), [a]);
    }
  }

  unknownElement(el: XmlElement): void {
    this.whole(el, 'philips:xml-element', 'Unexpected XML element', 'not part of the Philips layout: treated as identifying');
  }

  /** An element removed or kept whole, as one identifying part. */
  whole(el: XmlElement, id: string, label: string, reason: string, value?: string): number {
    const texts = descendantTexts(el);
    const display = value ?? displayText(latin1Bytes(texts.join(' / ')));
    return this.add({ id, label, value: display, class: 'phi', reason, sweep: texts.map(sweepForm).filter((v) => v.length > 0) }, [el]);
  }

  /**
   * One <Attribute Name="…">: kept if its name is listed for this context and its value has the
   * listed shape; a listed critical spacing must parse (returned) or the file is refused.
   */
  attribute(el: XmlElement, context: AttributeContext): Spacing | undefined {
    const name = attr(el, 'Name') ?? '';
    const value = textOf(el);
    const simple = el.children.every((c) => c.kind === 'text');
    const listed = listedRule(context, name);
    if (listed?.class === 'critical') {
      const spacing = name === 'DICOM_PIXEL_SPACING' ? parseSpacing(value) : undefined;
      const ok = simple && el.children.length === 1 && (name !== 'DICOM_PIXEL_SPACING' || spacing) && listed.shape.test(value);
      if (!ok) throw new SlideError('CORRUPT', `${WHAT} has a ${name} that cannot be read`);
      this.xmlAttributes(el);
      const group = attr(el, 'Group'), element = attr(el, 'Element');
      this.add(textPart(`philips:${context === 'level' ? 'PixelDataRepresentation.' : ''}${name}`, labelOf(name, group, element), listed.reason, value, listed.class), []);
      return spacing;
    }
    const rule = simple ? attributeRule(context, name, value) : undefined;
    const safeName = XML_ATTRS.Name!.test(name) ? name : '';
    const id = safeName ? `philips:${context === 'level' ? 'PixelDataRepresentation.' : ''}${safeName}` : 'philips:xml-attribute-element';
    const label = safeName ? labelOf(safeName, attr(el, 'Group'), attr(el, 'Element')) : 'Attribute with an unreadable name';
    if (rule) {
      // Kept by default: its XML attributes are checked like any kept element's.
      this.xmlAttributes(el);
      this.add(textPart(id, label, rule.reason, value, rule.class), [el]);
      return undefined;
    }
    if (name === 'PIM_DP_UFS_BARCODE' && simple) {
      const decoded = decodeBase64(value);
      const shown = decoded ? displayText(decoded) : value;
      const sweep = [latin1Bytes(value.trim()), ...(decoded ? [decoded] : [])].filter((v) => v.length > 0);
      this.add({ id, label, value: shown, class: 'phi', reason: phiReason(name), sweep }, [el]);
      return undefined;
    }
    this.whole(el, id, label, phiReason(name), simple ? displayText(latin1Bytes(value)) : undefined);
    return undefined;
  }
}

function labelOf(name: string, group: string | undefined, element: string | undefined): string {
  const g = group?.match(/^0x([0-9A-Fa-f]{4})$/)?.[1];
  const e = element?.match(/^0x([0-9A-Fa-f]{4})$/)?.[1];
  return g && e ? `${name} (${g.toUpperCase()},${e.toUpperCase()})` : name;
}

function textPart(id: string, label: string, reason: string, value: string, cls: TextPart['class'] = 'phi'): TextPart {
  const v = value.trim();
  return { id, label, value: displayText(latin1Bytes(value)), class: cls, reason, sweep: cls === 'phi' && v ? [sweepForm(v)] : [] };
}

/** A removed comment or stray text: searched whole and by its runs of words (a name inside it). */
function freeTextPart(id: string, label: string, reason: string, value: string): TextPart {
  return { ...textPart(id, label, reason, value), sweep: freeTextRuns(value).map((t) => sweepForm(t)) };
}

/** The bytes to search for a removed text: itself, or for long (base64) data a slice from its middle. */
function sweepForm(text: string): Uint8Array {
  const t = text.trim();
  if (t.length <= 4 * SWEEP_SLICE) return latin1Bytes(t);
  const mid = Math.floor(t.length / 2);
  return latin1Bytes(t.slice(mid, mid + SWEEP_SLICE));
}

/** Non-blank text of an element and all its descendants (and their XML attribute values). */
function descendantTexts(el: XmlElement): string[] {
  const out: string[] = [];
  const walk = (e: XmlElement) => {
    for (const a of e.attributes) if (!XML_ATTRS[a.name]?.test(a.value)) out.push(a.value);
    for (const c of e.children) {
      if (c.kind === 'element') walk(c);
      else if (c.kind === 'text' && c.text.trim() !== '') out.push(c.text.trim());
    }
  };
  walk(el);
  return out;
}
