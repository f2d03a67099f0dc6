import type { ImageRole } from '../formats/slide-format.ts';
import { SlideError } from '../../shared/errors.ts';
import type { DicomDataset } from './dataset.ts';
import { findElement, firstItem, isWellFormedUid, numberValue, stringValue, stringValues } from './dataset.ts';
import type { Part10Header } from './part10.ts';
import { requiredOpaqueElement } from './deid-profile.ts';
import { dictionaryVr } from './dictionary.ts';
import { fieldLabel } from './fields.ts';

export const VL_WSI_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.77.1.6';

/** Names of SOP classes a WSI directory commonly holds besides images, for messages. */
const SOP_CLASS_NAMES: Record<string, string> = {
  '1.2.840.10008.5.1.4.1.1.91.1': 'Microscopy Bulk Simple Annotations',
  '1.2.840.10008.5.1.4.1.1.66.4': 'Segmentation',
  '1.2.840.10008.5.1.4.1.1.77.1.2': 'VL Microscopic Image',
  '1.2.840.10008.5.1.4.1.1.77.1.3': 'VL Slide-Coordinates Microscopic Image',
  '1.2.840.10008.5.1.4.1.1.88.33': 'Comprehensive SR',
  '1.2.840.10008.5.1.4.1.1.11.1': 'Grayscale Softcopy Presentation State',
};

/** What the driver and the grouping need to know about one VL WSI instance. */
export interface WsiInstanceInfo {
  sopClassUid: string;
  sopInstanceUid: string;
  studyUid: string;
  seriesUid: string;
  pyramidUid?: string;
  containerId?: string;
  role: ImageRole;
  imageType: string[];
  /** Whole image size (TotalPixelMatrix), and the frame (tile) size. */
  width: number;
  height: number;
  tileWidth: number;
  tileHeight: number;
  frames: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  photometric: string;
  planar: number;
  tiling: 'TILED_FULL' | 'TILED_SPARSE' | 'NONE';
  focalPlanes: number;
  opticalPaths: number;
}

function roleOf(imageType: string[]): ImageRole {
  switch (imageType[2]?.toUpperCase()) {
    case 'THUMBNAIL':
      return 'thumbnail';
    case 'LABEL':
      return 'label';
    case 'OVERVIEW':
      return 'overview';
    default:
      return 'level';
  }
}

/** The name of a SOP class for messages: a known name, the UID when well formed, else a phrase. */
export function sopClassName(uid: string): string {
  return SOP_CLASS_NAMES[uid] ?? (isWellFormedUid(uid) ? uid : 'an unknown SOP class');
}

/**
 * The refusal of an instance that is not a VL Whole Slide Microscopy Image: the SOP class named
 * (a well-formed UID at most, never arbitrary bytes from the file).
 */
export function notWsiError(name: string, uid: string): SlideError {
  const known = SOP_CLASS_NAMES[uid] ?? (isWellFormedUid(uid) ? uid : undefined);
  const what = known !== undefined ? `DICOM ${known}` : uid === '' ? 'DICOM object without a SOP class' : `DICOM object of ${sopClassName(uid)}`;
  return new SlideError('UNSUPPORTED', `${name}: ${what} is not a whole-slide image`, isWellFormedUid(uid) ? { detail: `SOP class ${uid}` } : undefined);
}

/** Check the SOP class and summarise; UNSUPPORTED for DICOM that is not a whole-slide image. */
export function wsiInstanceInfo(h: Part10Header): WsiInstanceInfo {
  const ds = h.dataset;
  const sopClassUid = stringValue(ds, '00080016') ?? stringValue(h.meta, '00020002') ?? '';
  if (sopClassUid !== VL_WSI_SOP_CLASS) throw notWsiError(h.name, sopClassUid);
  const opaque = requiredOpaqueElement(ds);
  if (opaque) {
    throw new SlideError(
      'CORRUPT',
      `${h.name}: ${fieldLabel(opaque.parents, opaque.tag)} is not stored as the DICOM dictionary defines it (${dictionaryVr(opaque.tag)}), so its content cannot be judged; the whole-slide image standard requires it with a value, so the file cannot be de-identified`,
    );
  }
  const need = (tag: string, what: string): number => {
    const v = numberValue(ds, tag);
    if (v === undefined || !Number.isFinite(v) || v <= 0) throw new SlideError('CORRUPT', `${h.name}: missing or invalid ${what}`);
    return v;
  };
  const tileHeight = need('00280010', 'Rows');
  const tileWidth = need('00280011', 'Columns');
  const imageType = stringValues(ds, '00080008');
  const frames = numberValue(ds, '00280008') ?? 1;
  const org = stringValue(ds, '00209311');
  return {
    sopClassUid,
    sopInstanceUid: stringValue(ds, '00080018') ?? '',
    studyUid: stringValue(ds, '0020000D') ?? '',
    seriesUid: stringValue(ds, '0020000E') ?? '',
    pyramidUid: stringValue(ds, '00080019') || undefined,
    containerId: stringValue(ds, '00400512') || undefined,
    role: roleOf(imageType),
    imageType,
    width: numberValue(ds, '00480006') ?? tileWidth,
    height: numberValue(ds, '00480007') ?? tileHeight,
    tileWidth,
    tileHeight,
    frames,
    samplesPerPixel: numberValue(ds, '00280002') ?? 1,
    bitsAllocated: numberValue(ds, '00280100') ?? 8,
    photometric: stringValue(ds, '00280004') ?? 'MONOCHROME2',
    planar: numberValue(ds, '00280006') ?? 0,
    tiling: org === 'TILED_FULL' ? 'TILED_FULL' : findElement(ds, '52009230') ? 'TILED_SPARSE' : frames === 1 ? 'NONE' : 'TILED_FULL',
    focalPlanes: numberValue(ds, '00480303') ?? 1,
    opticalPaths: numberValue(ds, '00480302') ?? 1,
  };
}

/** Pixel spacing (mm, row\column) of an instance's shared functional groups, if present. */
export function pixelSpacing(ds: DicomDataset): { row: number; col: number } | undefined {
  const shared = firstItem(ds, '52009229');
  const measures = shared ? firstItem(shared, '00289110') : undefined;
  if (!measures) return undefined;
  const row = numberValue(measures, '00280030', 0);
  const col = numberValue(measures, '00280030', 1);
  if (!row || !col || row <= 0 || col <= 0) return undefined;
  return { row, col };
}

/**
 * Frame index of tile (col,row) of the first focal plane and optical path. TILED_FULL orders frames
 * column fastest, then row (PS3.3 C.8.12.4.1.3); TILED_SPARSE says where each frame lies in the
 * per-frame Plane Position (Slide) sequence.
 */
export function frameIndexMap(info: WsiInstanceInfo, ds: DicomDataset): (col: number, row: number) => number | undefined {
  const cols = Math.ceil(info.width / info.tileWidth);
  const rows = Math.ceil(info.height / info.tileHeight);
  if (info.tiling !== 'TILED_SPARSE') {
    return (col, row) => (col >= 0 && row >= 0 && col < cols && row < rows && row * cols + col < info.frames ? row * cols + col : undefined);
  }
  const perFrame = findElement(ds, '52009230')?.items ?? [];
  const map = new Map<number, number>();
  perFrame.forEach((item, i) => {
    const pos = firstItem(item, '0048021A');
    if (!pos) return;
    const c = numberValue(pos, '0048021E');
    const r = numberValue(pos, '0048021F');
    if (c === undefined || r === undefined) return;
    const key = Math.floor((r - 1) / info.tileHeight) * cols + Math.floor((c - 1) / info.tileWidth);
    if (!map.has(key)) map.set(key, i); // first focal plane / optical path wins
  });
  return (col, row) => (col >= 0 && row >= 0 && col < cols && row < rows ? map.get(row * cols + col) : undefined);
}
