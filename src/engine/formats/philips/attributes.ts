import type { FieldClass } from '../slide-format.ts';

/**
 * Which Philips XML attributes (<Attribute Name="…">) are kept, by where they sit. Default deny:
 * a name not listed here is identifying (patient and study data, barcode, dates, device serials,
 * operator, software versions, source file names, and anything Philips adds later). Listed names
 * are kept only when their value has the expected shape (numbers, a DICOM code word), so a listed
 * name can never carry free text into the output.
 */

export type AttributeContext = 'top' | 'wsi' | 'level';

export interface AttributeRule {
  class: Exclude<FieldClass, 'phi'>;
  reason: string;
  shape: RegExp;
}

/** OpenSlide's pixel spacing: two quoted decimals (mm), row spacing then column spacing. */
export const SPACING = /^\s*"?\s*[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?\s*"?\s+"?\s*[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?\s*"?\s*$/;
const INTEGER = /^\s*[0-9]{1,10}\s*$/;
const NUMBERS = /^\s*(?:"?-?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?"?\s*){1,8}$/;
const PHOTOMETRIC = /^\s*(?:RGB|YBR_FULL|YBR_FULL_422|YBR_ICT|YBR_RCT|MONOCHROME2)\s*$/;
const LOSSY_FLAG = /^\s*0[01]\s*$/;
const CODE_WORDS = /^\s*(?:"[A-Z0-9_]{1,32}"\s*){1,4}$/;

const pixels = (shape: RegExp): AttributeRule => ({ class: 'neutral', reason: 'describes the pixels (numbers or a code word only)', shape });

/** Needed by OpenSlide to read levels and MPP: never removable, must parse. */
export const CRITICAL_SPACING: AttributeRule = { class: 'critical', reason: 'pixel size (MPP) and level sizes as OpenSlide reads them', shape: SPACING };
export const CRITICAL_IMAGE_TYPE: AttributeRule = { class: 'critical', reason: 'marks the whole-slide image for OpenSlide', shape: /^WSI$/ };

const WSI: Record<string, AttributeRule> = {
  DICOM_PIXEL_SPACING: CRITICAL_SPACING,
  PIM_DP_IMAGE_TYPE: CRITICAL_IMAGE_TYPE,
  PIM_DP_IMAGE_COLUMNS: pixels(INTEGER),
  PIM_DP_IMAGE_ROWS: pixels(INTEGER),
  DICOM_PHOTOMETRIC_INTERPRETATION: pixels(PHOTOMETRIC),
  DICOM_LOSSY_IMAGE_COMPRESSION: pixels(LOSSY_FLAG),
  DICOM_LOSSY_IMAGE_COMPRESSION_RATIO: pixels(NUMBERS),
  DICOM_LOSSY_IMAGE_COMPRESSION_METHOD: pixels(CODE_WORDS),
  DICOM_SAMPLES_PER_PIXEL: pixels(INTEGER),
  DICOM_BITS_ALLOCATED: pixels(INTEGER),
  DICOM_BITS_STORED: pixels(INTEGER),
  DICOM_HIGH_BIT: pixels(INTEGER),
  DICOM_PIXEL_REPRESENTATION: pixels(INTEGER),
  DICOM_PLANAR_CONFIGURATION: pixels(INTEGER),
};

const LEVEL: Record<string, AttributeRule> = {
  DICOM_PIXEL_SPACING: CRITICAL_SPACING,
  PIIM_PIXEL_DATA_REPRESENTATION_NUMBER: pixels(INTEGER),
  PIIM_PIXEL_DATA_REPRESENTATION_COLUMNS: pixels(INTEGER),
  PIIM_PIXEL_DATA_REPRESENTATION_ROWS: pixels(INTEGER),
  PIIM_DP_PIXEL_DATA_REPRESENTATION_POSITION: pixels(NUMBERS),
};

/** A top-level DICOM_PIXEL_SPACING also becomes OpenSlide's philips.DICOM_PIXEL_SPACING (MPP). */
const TOP: Record<string, AttributeRule> = {
  DICOM_PIXEL_SPACING: CRITICAL_SPACING,
  // Only the vendor's own name: a constant that is also part of kept code words (PHILIPS_DP_1_0).
  DICOM_MANUFACTURER: { class: 'neutral', reason: 'manufacturer name (only the value PHILIPS is kept)', shape: /^\s*PHILIPS\s*$/ },
};

const TABLES: Record<AttributeContext, Record<string, AttributeRule>> = { top: TOP, wsi: WSI, level: LEVEL };

/** Why some identifying names are identifying (review tooltip); the rest get a generic reason. */
const KNOWN_PHI: Record<string, string> = {
  PIM_DP_UFS_BARCODE: 'slide barcode (base64)',
  DICOM_ACQUISITION_DATETIME: 'scan date and time',
  DICOM_DATE_OF_LAST_CALIBRATION: 'calibration date',
  DICOM_TIME_OF_LAST_CALIBRATION: 'calibration time',
  DICOM_DEVICE_SERIAL_NUMBER: 'scanner serial number',
  DICOM_SOFTWARE_VERSIONS: 'scanner software versions (device identity)',
  DICOM_MANUFACTURER: 'device identity',
  DICOM_MANUFACTURERS_MODEL_NAME: 'device identity',
  DICOM_DERIVATION_DESCRIPTION: 'conversion settings with the source file name',
  PIM_DP_SOURCE_FILE: 'source file name',
  PIIM_DP_SCANNER_OPERATOR_ID: 'scanner operator',
  PIIM_DP_SCANNER_RACK_NUMBER: 'scanner rack position',
  PIIM_DP_SCANNER_SLOT_NUMBER: 'scanner slot position',
};

/** The rule for a name in a context when its value has the listed shape; undefined = identifying. */
export function attributeRule(context: AttributeContext, name: string, value: string): AttributeRule | undefined {
  const rule = TABLES[context][name];
  return rule && rule.shape.test(value) ? rule : undefined;
}

/** Whether a name is listed at all in a context (a listed critical name with a bad value is refused). */
export function listedRule(context: AttributeContext, name: string): AttributeRule | undefined {
  return TABLES[context][name];
}

export function phiReason(name: string): string {
  if (KNOWN_PHI[name]) return KNOWN_PHI[name]!;
  if (/PATIENT|STUDY|ACCESSION|PHYSICIAN|INSTITUTION|OPERATOR|BARCODE/.test(name)) return 'patient, study or person data';
  if (/DATE|TIME/.test(name)) return 'date or time';
  return 'not on the reviewed list of Philips attributes: treated as identifying';
}
