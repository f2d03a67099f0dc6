import { SlideError } from '../../../shared/errors.ts';
import { displayText, latin1Bytes } from '../../tiff/tifflike.ts';
import type { StructuredText, TextPart } from '../../tiff/vendor-profile.ts';
import { cutSpans, localName, parseXml, type XmlAttribute, type XmlDocument, type XmlElement, type XmlNode, type XmlSpan } from '../../xml/xml-tree.ts';
import type { FieldClass } from '../slide-format.ts';
import { freeTextRuns } from '../../redact/encodings.ts';

/**
 * Ventana's XMP (TIFF tag 700), as OpenSlide reads it and as BIF scanners write it:
 *   - on the first directory: `<iScan …>` (iScan HT/Coreo) or `<Metadata><iScan …/>…</Metadata>`
 *     (DP 200/600): scanner settings, Magnification and ScanRes (→ objective power, MPP) next to
 *     identifying attributes (barcodes, unit number, operator, build date, annotation, AOIn boxes);
 *   - on level 0: `<EncodeInfo>` with the AOI geometry and the tile joints (overlaps) OpenSlide
 *     needs to place tiles: SlideStitchInfo/ImageInfo/TileJointInfo and AoiOrigin/AOIn.
 * The review sees every iScan attribute as a part; the EncodeInfo numbers are structure (kept,
 * shape-checked: numbers and direction words cannot carry a name). Anything else — an element or
 * attribute not listed here, text, comments, processing instructions — is its own 'phi' part.
 */

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
/** A setting: letters, digits and a little punctuation, no longer than a model name gets. */
const TOKEN = /^[A-Za-z0-9 ._\-+/():,]{0,48}$/;
const XML_DECLARATION = /^<\?xml version=(['"])1\.[01]\1( encoding=(['"])[A-Za-z0-9._-]{1,20}\3)?( standalone=(['"])(yes|no)\5)? ?\?>$/;

type AttrRule = { class: FieldClass; shape: 'number' | 'token'; reason: string };

const CRITICAL_NUMBER = (reason: string): AttrRule => ({ class: 'critical', shape: 'number', reason });
const SETTING_NUMBER: AttrRule = { class: 'neutral', shape: 'number', reason: 'scanner setting' };
const SETTING_TOKEN: AttrRule = { class: 'neutral', shape: 'token', reason: 'scanner setting' };

/** iScan attributes that are not identifying; every other attribute is. */
const ISCAN_KEPT: ReadonlyMap<string, AttrRule> = new Map([
  ['Magnification', CRITICAL_NUMBER('objective power')],
  ['ScanRes', CRITICAL_NUMBER('pixel size (MPP)')],
  ['Mode', SETTING_TOKEN],
  ['ScannerModel', { class: 'neutral', shape: 'token', reason: 'scanner model (not a serial number)' }],
  ['Z-layers', SETTING_NUMBER],
  ['Z-spacing', SETTING_NUMBER],
  ['ShowLabel', SETTING_NUMBER],
  ['LabelBoundary', SETTING_NUMBER],
  ['FocusMode', SETTING_NUMBER],
  ['FocusQuality', SETTING_NUMBER],
  ['ScanMode', SETTING_NUMBER],
  ['ScanWhitePoint', SETTING_NUMBER],
  ['Anonymization', SETTING_NUMBER],
]);

/** Why a known identifying iScan attribute is identifying (for the review's tooltip). */
const ISCAN_IDENTIFYING: Readonly<Record<string, string>> = {
  Barcode1D: 'slide barcode',
  Barcode2D: 'slide barcode',
  UnitNumber: 'scanner serial number',
  UserName: 'operator name',
  SlideAnnotation: 'slide annotation (free text)',
  BuildDate: 'date (software build or scan)',
  BuildVersion: 'scanner software build (narrows down the instrument)',
  BaseName: 'original file name',
  JP2FileName: 'original file name',
  FileName: 'original file name',
  ScanDate: 'scan date',
  ScanTime: 'scan time',
};

/** Numeric attributes of the EncodeInfo elements OpenSlide reads (structure). */
const ENCODE_NUMBERS: Readonly<Record<string, ReadonlySet<string>>> = {
  EncodeInfo: new Set(['Ver']),
  AoiInfo: new Set(['XImageSize', 'YImageSize', 'NumRows', 'NumCols', 'PosX', 'PosY', 'Pos-X', 'Pos-Y', 'AOIIndex']),
  ImageInfo: new Set(['AOIScanned', 'AOIIndex', 'Width', 'Height', 'NumRows', 'NumCols', 'Pos-X', 'Pos-Y']),
  TileJointInfo: new Set(['FlagJoined', 'Tile1', 'Tile2', 'OverlapX', 'OverlapY', 'Confidence']),
  AOI: new Set(['OriginX', 'OriginY', 'Left', 'Top', 'Right', 'Bottom']),
};
const DIRECTIONS = new Set(['RIGHT', 'LEFT', 'UP', 'DOWN']);
const AOI_NAME = /^AOI\d{1,4}$/;

export type XmpKind = 'iscan' | 'encode' | 'other';

export interface VentanaXmp {
  kind: XmpKind;
  doc: XmlDocument;
  /** The iScan element (root, Metadata child, or EncodeInfo/SlideInfo child). */
  iscan?: XmlElement;
  text: StructuredText;
}

/** Cheap check used by detect(): does this XMP look like Ventana's? */
export function looksLikeVentanaXmp(s: string): boolean {
  return s.includes('<iScan') || s.includes('<EncodeInfo');
}

/** The root's kind: OpenSlide accepts iScan as root or as a child of a Metadata root. */
export function xmpKind(doc: XmlDocument): XmpKind {
  const root = localName(doc.root.name);
  if (root === 'iScan') return 'iscan';
  if (root === 'Metadata') return elementsNamed(doc.root, 'iScan').length > 0 ? 'iscan' : 'other';
  if (root === 'EncodeInfo') return 'encode';
  return 'other';
}

/**
 * Parse one XMP value (latin-1, one char per byte) into its reviewable parts. Returns undefined
 * for XMP whose root is none of Ventana's (then it is a plain tag for the generic rules).
 */
export function parseVentanaXmp(source: string): VentanaXmp | undefined {
  // Anything naming Ventana's elements is parsed strictly (a DOCTYPE or broken XML is refused).
  if (!looksLikeVentanaXmp(source) && !source.includes('<Metadata')) return undefined;
  const doc = parseXml(source, 'the Ventana XMP metadata');
  const kind = xmpKind(doc);
  if (kind === 'other' && localName(doc.root.name) !== 'Metadata') return undefined;
  const b = new PartBuilder(doc.source);
  for (const n of [...doc.prolog, ...doc.epilog]) b.misc(n, true);
  let iscan: XmlElement | undefined;
  const rootName = localName(doc.root.name);
  if (rootName === 'iScan') {
    iscan = doc.root;
    b.iscan(doc.root);
  } else if (rootName === 'Metadata') {
    b.attributesAsPhi(doc.root, 'Metadata');
    for (const n of doc.root.children) {
      if (n.kind !== 'element') b.misc(n, false);
      else if (localName(n.name) === 'iScan' && !iscan) {
        iscan = n;
        b.iscan(n);
      } else if (localName(n.name) === 'ProcessingParameters') b.settingsElement(n);
      else b.element(n, 'phi', 'Ventana metadata element not on the reviewed list: treated as identifying');
    }
  } else {
    iscan = b.encodeInfo(doc.root);
  }
  return { kind, doc, ...(iscan ? { iscan } : {}), text: b.text() };
}

function elementsNamed(parent: XmlElement, name: string): XmlElement[] {
  return parent.children.filter((c): c is XmlElement => c.kind === 'element' && localName(c.name) === name);
}

/** Collects parts, each with the spans a rebuild cuts when the part is dropped. */
class PartBuilder {
  private readonly parts: TextPart[] = [];
  private readonly spans: XmlSpan[][] = [];
  constructor(private readonly source: string) {}

  private add(part: Omit<TextPart, 'sweep'>, spans: XmlSpan[], values: string[]): void {
    const sweep = values.filter((v) => v.trim() !== '').map((v) => latin1Bytes(v));
    this.parts.push({ ...part, sweep });
    this.spans.push(spans);
  }

  /** Comments and processing instructions go; the XML declaration and blank text are structure. */
  misc(n: XmlNode, prolog: boolean): void {
    if (n.kind === 'text') {
      if (n.text.trim() !== '') this.add({ id: 'ventana:text', label: 'Text in Ventana metadata', value: displayText(latin1Bytes(n.text)), class: 'phi', reason: 'free text inside the Ventana XML' }, [n], freeTextRuns(n.text));
      return;
    }
    if (n.kind === 'element') return;
    const raw = this.source.slice(n.start, n.end);
    if (prolog && n.kind === 'pi' && XML_DECLARATION.test(raw)) return;
    this.add({ id: 'ventana:comment', label: 'Comment in Ventana metadata', value: displayText(latin1Bytes(raw)), class: 'phi', reason: 'comments and processing instructions are free text' }, [n], freeTextRuns(raw));
  }

  /** Every attribute of `e` its own identifying part (elements whose attributes we do not know). */
  attributesAsPhi(e: XmlElement, owner: string): void {
    for (const a of e.attributes) this.attribute(a, `ventana:${owner}.${a.name}`, `${owner} ${a.name}`, 'phi', 'Ventana attribute not on the reviewed list: treated as identifying');
  }

  private attribute(a: XmlAttribute, id: string, label: string, cls: FieldClass, reason: string): void {
    this.add({ id, label, value: displayText(latin1Bytes(a.value)), class: cls, reason }, [a], [a.value, this.rawValue(a)]);
  }

  /** The attribute's value as written (entities undecoded), for the sweep. */
  private rawValue(a: XmlAttribute): string {
    const s = this.source.slice(a.start, a.end);
    const q = s.search(/["']/);
    return q < 0 ? '' : s.slice(q + 1, s.length - 1);
  }

  /** iScan: each attribute a part (kept settings need the shape their name implies), AOIn boxes numbers. */
  iscan(e: XmlElement): void {
    for (const a of e.attributes) {
      const rule = ISCAN_KEPT.get(a.name);
      if (rule) {
        const ok = a.value === '' || (rule.shape === 'number' ? NUMBER : TOKEN).test(a.value);
        if (ok) this.attribute(a, `ventana:${a.name}`, a.name, rule.class, rule.reason);
        else this.attribute(a, `ventana:${a.name}`, a.name, 'phi', `value is not ${rule.shape === 'number' ? 'a number' : 'a short setting'}: treated as identifying`);
        continue;
      }
      const why = ISCAN_IDENTIFYING[a.name];
      this.attribute(a, `ventana:${a.name}`, a.name, 'phi', why ?? 'iScan attribute not on the reviewed list: treated as identifying');
    }
    for (const n of e.children) {
      if (n.kind !== 'element') this.misc(n, false);
      else if (AOI_NAME.test(localName(n.name)) && n.children.every((c) => c.kind === 'text' && c.text.trim() === '')) this.numbers(n, ENCODE_NUMBERS.AOI!, 'AOI');
      else this.element(n, 'phi', 'iScan element not on the reviewed list: treated as identifying');
    }
  }

  /**
   * An element of known numeric attributes: those are structure when they are numbers (the file
   * is refused otherwise: OpenSlide needs them), any other attribute is an identifying part.
   */
  private numbers(e: XmlElement, known: ReadonlySet<string>, owner: string): void {
    for (const a of e.attributes) {
      if (known.has(a.name)) {
        if (!NUMBER.test(a.value.trim())) throw new SlideError('UNSUPPORTED', `Ventana ${owner} attribute ${a.name} is not a number`);
      } else if (owner === 'TileJointInfo' && a.name === 'Direction') {
        if (!DIRECTIONS.has(a.value)) throw new SlideError('UNSUPPORTED', 'a Ventana tile joint has an unknown direction');
      } else this.attribute(a, `ventana:${owner}.${a.name}`, `${owner} ${a.name}`, 'phi', 'Ventana attribute not on the reviewed list: treated as identifying');
    }
  }

  /** A whole element as one part (removing it cuts the element and everything inside). */
  element(e: XmlElement, cls: FieldClass, reason: string): void {
    const name = localName(e.name);
    const values: string[] = [];
    const walk = (x: XmlElement) => {
      for (const a of x.attributes) values.push(a.value);
      for (const c of x.children) {
        if (c.kind === 'element') walk(c);
        else if (c.kind === 'text') values.push(c.text);
        else values.push(this.source.slice(c.start, c.end));
      }
    };
    walk(e);
    const shown = values.filter((v) => v.trim() !== '').join(' / ');
    this.add({ id: `ventana:${name}`, label: `${name} (Ventana element)`, value: displayText(latin1Bytes(shown)), class: cls, reason }, [e], values);
  }

  /** Processing settings: kept (neutral) when nothing in them can be a name, else identifying. */
  settingsElement(e: XmlElement): void {
    let clean = true;
    const walk = (x: XmlElement) => {
      for (const a of x.attributes) if (!(a.value === '' || NUMBER.test(a.value) || /^[-0-9.,]{0,200}$/.test(a.value) || TOKEN.test(a.value))) clean = false;
      for (const c of x.children) {
        if (c.kind === 'element') walk(c);
        else if (c.kind !== 'text' || c.text.trim() !== '') clean = false;
      }
    };
    walk(e);
    this.element(e, clean ? 'neutral' : 'phi', clean ? 'image processing settings (numbers and settings only)' : 'processing settings holding free text: treated as identifying');
  }

  /** EncodeInfo: the geometry OpenSlide reads is structure; anything else a part. Returns an iScan inside. */
  encodeInfo(root: XmlElement): XmlElement | undefined {
    let iscan: XmlElement | undefined;
    this.numbers(root, ENCODE_NUMBERS.EncodeInfo!, 'EncodeInfo');
    for (const n of root.children) {
      if (n.kind !== 'element') {
        this.misc(n, false);
        continue;
      }
      const name = localName(n.name);
      if (name === 'SlideInfo') {
        this.attributesAsPhi(n, 'SlideInfo');
        for (const c of n.children) {
          if (c.kind !== 'element') this.misc(c, false);
          else if (localName(c.name) === 'AoiInfo') this.leaf(c, 'AoiInfo');
          else if (localName(c.name) === 'iScan' && !iscan) {
            iscan = c;
            this.iscan(c);
          } else this.element(c, 'phi', 'Ventana element not on the reviewed list: treated as identifying');
        }
      } else if (name === 'SlideStitchInfo') {
        this.attributesAsPhi(n, 'SlideStitchInfo');
        for (const c of n.children) {
          if (c.kind !== 'element') this.misc(c, false);
          else if (localName(c.name) === 'ImageInfo') {
            this.numbers(c, ENCODE_NUMBERS.ImageInfo!, 'ImageInfo');
            for (const j of c.children) {
              if (j.kind !== 'element') this.misc(j, false);
              else if (localName(j.name) === 'TileJointInfo') this.leaf(j, 'TileJointInfo');
              else this.element(j, 'phi', 'Ventana element not on the reviewed list: treated as identifying');
            }
          } else this.element(c, 'phi', 'Ventana element not on the reviewed list: treated as identifying');
        }
      } else if (name === 'AoiOrigin') {
        this.attributesAsPhi(n, 'AoiOrigin');
        for (const c of n.children) {
          if (c.kind !== 'element') this.misc(c, false);
          else if (AOI_NAME.test(localName(c.name))) this.leaf(c, 'AOI');
          else this.element(c, 'phi', 'Ventana element not on the reviewed list: treated as identifying');
        }
      } else this.element(n, 'phi', 'Ventana element not on the reviewed list: treated as identifying');
    }
    return iscan;
  }

  /** A numeric element with no content of its own (content would be text or unknown children). */
  private leaf(e: XmlElement, owner: string): void {
    this.numbers(e, ENCODE_NUMBERS[owner]!, owner);
    for (const c of e.children) {
      if (c.kind === 'element') this.element(c, 'phi', 'Ventana element not on the reviewed list: treated as identifying');
      else this.misc(c, false);
    }
  }

  text(): StructuredText {
    const { source, parts, spans } = this;
    return {
      parts,
      rebuild(keep) {
        const cut: XmlSpan[] = [];
        spans.forEach((s, i) => {
          if (!keep(i)) cut.push(...s);
        });
        return latin1Bytes(cutSpans(source, cut));
      },
    };
  }
}
