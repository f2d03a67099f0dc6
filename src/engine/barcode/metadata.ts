import { decodeBase64 } from '../codecs/base64.ts';
import type { MetadataField } from '../formats/slide-format.ts';
import type { FoundBarcode } from './types.ts';

/**
 * Barcode values vendors store in metadata, by the drivers' field ids (one table for every
 * format). A value is taken as the driver shows it, trimmed; empty values are skipped.
 */
interface BarcodeFieldRule {
  /** Exact field id, or a pattern for ids that carry a section name (MIRAX). */
  id: string | RegExp;
  what: string;
  /** How the stored text becomes the barcode's value. */
  decode?: 'base64-text' | 'distinct-values';
}

export const BARCODE_FIELDS: readonly BarcodeFieldRule[] = [
  { id: 'aperio:Barcode', what: 'Aperio ImageDescription key Barcode' },
  // Leica SCN 2010/10/01 stores the barcode base64-encoded (OpenSlide decodes it too).
  { id: 'scn:barcode', what: 'Leica SCN XML <barcode>', decode: 'base64-text' },
  { id: 'tiff:65427', what: 'Hamamatsu NDPI slide reference (tag 65427)' },
  // The Philips driver already shows PIM_DP_UFS_BARCODE decoded from its base64.
  { id: 'philips:PIM_DP_UFS_BARCODE', what: 'Philips PIM_DP_UFS_BARCODE (base64, decoded by the driver)' },
  { id: 'ventana:Barcode1D', what: 'Ventana BIF iScan Barcode1D' },
  { id: 'ventana:Barcode2D', what: 'Ventana BIF iScan Barcode2D' },
  { id: /^mirax:[^/]+\/BARCODE_VALUE$/, what: 'MIRAX Slidedat.ini BARCODE_VALUE (label layer section)' },
  // DICOM fields join differing values across a series' instances with ' | '.
  { id: 'dicom:22000005', what: 'DICOM Barcode Value (2200,0005)', decode: 'distinct-values' },
  { id: 'dicom:00400512', what: 'DICOM Container Identifier (0040,0512)', decode: 'distinct-values' },
];

function ruleFor(id: string): BarcodeFieldRule | undefined {
  return BARCODE_FIELDS.find((r) => (typeof r.id === 'string' ? r.id === id : r.id.test(id)));
}

/** Printable ASCII only: a base64 decoding that gives anything else was not base64 text. */
function base64Text(v: string): string {
  const bytes = decodeBase64(v);
  if (!bytes || bytes.length === 0 || bytes.some((b) => b < 0x20 || b > 0x7e)) return v;
  return String.fromCharCode(...bytes);
}

function valuesOf(rule: BarcodeFieldRule, raw: string): string[] {
  const v = raw.trim();
  if (rule.decode === 'base64-text') return [base64Text(v)];
  if (rule.decode === 'distinct-values') return v.split(' | ');
  return [v];
}

/** Barcode values in the slide's metadata, in field order (source 'metadata'). */
export function metadataBarcodes(fields: readonly MetadataField[]): FoundBarcode[] {
  const out: FoundBarcode[] = [];
  for (const f of fields) {
    const rule = ruleFor(f.id);
    if (!rule) continue;
    for (const value of valuesOf(rule, f.value).map((s) => s.trim())) {
      if (value) out.push({ value, symbology: 'metadata', source: 'metadata', fieldId: f.id });
    }
  }
  return out;
}
