import { SlideError } from '../../shared/errors.ts';
import { type IniFile, iniValue, isInteger, isNumber } from './ini.ts';

/**
 * The slide as Slidedat.ini describes it, read the way OpenSlide 3.4.1 reads it (facts from its
 * MIRAX driver and format notes): [GENERAL] gives the camera grid (IMAGENUMBER_X/Y images, split
 * CameraImageDivisionsPerSide² ways per camera photo), [HIERARCHICAL] names the layers — HIER_0
 * must be "Slide zoom level", one record per pyramid level, whose sections give image size,
 * overlap, MPP, concat factor and format — and the non-hierarchical layers, whose values are
 * records too (position buffer, label, macro, thumbnail, maps, XML…). Records are numbered across
 * layers in key order: that number indexes Index.dat's tables. [DATAFILE] lists the Data files.
 */

export const SLIDE_ZOOM_LEVEL = 'Slide zoom level';
export const SCAN_DATA_LAYER = 'Scan data layer';
export const POSITION_BUFFER_LAYER = 'VIMSLIDE_POSITION_BUFFER';
export const STITCHING_INTENSITY_LAYER = 'StitchingIntensityLayer';
/** The value name a removed Scan data layer record gets: what MIRAX itself writes for an unused slot. */
export const EMPTY_VALUE = 'ScanDataLayer_Empty';

/** OpenSlide's associated images: name, Scan data layer value, and its section's format key. */
export const ASSOCIATED = [
  { name: 'macro', role: 'overview', value: 'ScanDataLayer_SlideThumbnail', typeKey: 'THUMBNAIL_IMAGE_TYPE' },
  { name: 'label', role: 'label', value: 'ScanDataLayer_SlideBarcode', typeKey: 'BARCODE_IMAGE_TYPE' },
  // OpenSlide calls it the thumbnail, but it photographs the whole glass, label included: an
  // overview for the review (shown in Verify images, removed by default), never a kept thumbnail.
  { name: 'thumbnail', role: 'overview', value: 'ScanDataLayer_SlidePreview', typeKey: 'PREVIEW_IMAGE_TYPE' },
] as const;
export type AssociatedName = (typeof ASSOCIATED)[number]['name'];

export interface LayerValue {
  /** HIER_i_VAL_j / NONHIER_i_VAL_j */
  name: string;
  section?: string;
  /** Index into Index.dat's hier or nonhier record table. */
  record: number;
}

export interface Layer {
  name: string;
  section?: string;
  values: LayerValue[];
}

export interface ZoomSection {
  group: string;
  concatExponent: number;
  overlapX: number;
  overlapY: number;
  mppX: number;
  mppY: number;
  fillBgr: number;
  imageW: number;
  imageH: number;
  format: string;
}

export interface Level {
  width: number;
  height: number;
  /** Level-0 camera images per stored image, per side (1 << total concat exponent). */
  concat: number;
  downsample: number;
  /** Stored-image grid of this level (our viewer's tile grid). */
  across: number;
  down: number;
  imageW: number;
  imageH: number;
}

export interface MiraxLayout {
  slideId: string;
  imagesX: number;
  imagesY: number;
  divisions: number;
  indexFile: string;
  hier: Layer[];
  nonhier: Layer[];
  dataFiles: string[];
  zoom: ZoomSection[];
  levels: Level[];
  /** The position record OpenSlide uses: VIMSLIDE_POSITION_BUFFER (raw) or StitchingIntensityLayer (zlib). */
  position?: { record: number; compressed: boolean };
  /** Associated images OpenSlide would show, by record. */
  associated: { name: AssociatedName; role: 'overview' | 'label'; record: number; valueKey: string; section?: string }[];
}

const bad = (what: string): SlideError => new SlideError('CORRUPT', `Slidedat.ini: ${what}`);

function need(ini: IniFile, group: string, key: string): string {
  const v = iniValue(ini, group, key);
  if (v === undefined) throw bad(`${key} is missing from [${group}]`);
  return v;
}

function int(ini: IniFile, group: string, key: string): number {
  const v = need(ini, group, key);
  if (!isInteger(v)) throw bad(`${key} in [${group}] is not a whole number`);
  return Number(v);
}

function num(ini: IniFile, group: string, key: string): number {
  const v = need(ini, group, key);
  if (!isNumber(v)) throw bad(`${key} in [${group}] is not a number`);
  return Number(v);
}

function layers(ini: IniFile, prefix: 'HIER' | 'NONHIER'): Layer[] {
  const count = int(ini, 'HIERARCHICAL', `${prefix}_COUNT`);
  if (count < 0 || count > 1000 || (prefix === 'HIER' && count === 0)) throw bad(`${prefix}_COUNT is out of range`);
  const out: Layer[] = [];
  let record = 0;
  for (let i = 0; i < count; i++) {
    const n = int(ini, 'HIERARCHICAL', `${prefix}_${i}_COUNT`);
    if (n <= 0 || n > 100000) throw bad(`${prefix}_${i}_COUNT is out of range`);
    const values: LayerValue[] = [];
    for (let j = 0; j < n; j++) {
      const section = iniValue(ini, 'HIERARCHICAL', `${prefix}_${i}_VAL_${j}_SECTION`);
      values.push({ name: iniValue(ini, 'HIERARCHICAL', `${prefix}_${i}_VAL_${j}`) ?? '', ...(section !== undefined ? { section } : {}), record: record++ });
    }
    const section = iniValue(ini, 'HIERARCHICAL', `${prefix}_${i}_SECTION`);
    out.push({ name: need(ini, 'HIERARCHICAL', `${prefix}_${i}_NAME`), ...(section !== undefined ? { section } : {}), values });
  }
  return out;
}

export function readLayout(ini: IniFile): MiraxLayout {
  for (const g of ['GENERAL', 'HIERARCHICAL', 'DATAFILE']) if (!ini.groups.has(g)) throw bad(`the [${g}] section is missing`);
  // Kept as written (critical): so it must be what it says, a version number, not any text.
  if (!/^\d{1,4}(\.\d{1,4}){0,3}$/.test(need(ini, 'GENERAL', 'SLIDE_VERSION'))) throw bad('SLIDE_VERSION is not a version number');
  const slideId = need(ini, 'GENERAL', 'SLIDE_ID');
  const imagesX = int(ini, 'GENERAL', 'IMAGENUMBER_X');
  const imagesY = int(ini, 'GENERAL', 'IMAGENUMBER_Y');
  int(ini, 'GENERAL', 'OBJECTIVE_MAGNIFICATION');
  const div = iniValue(ini, 'GENERAL', 'CameraImageDivisionsPerSide');
  if (div !== undefined && !isInteger(div)) throw bad('CameraImageDivisionsPerSide is not a whole number');
  const divisions = div !== undefined ? Number(div) : 1;
  if (imagesX <= 0 || imagesY <= 0 || divisions <= 0) throw bad('the image grid is empty');
  if (imagesX > 1e6 || imagesY > 1e6) throw bad('the image grid is implausibly large');

  const hier = layers(ini, 'HIER');
  const nonhier = layers(ini, 'NONHIER');
  if (hier[0]!.name !== SLIDE_ZOOM_LEVEL) throw new SlideError('UNSUPPORTED', 'MIRAX slide whose first layer is not the zoom level is not supported yet');
  const indexFile = need(ini, 'HIERARCHICAL', 'INDEXFILE');
  // File names from Slidedat.ini end up in messages ("Data0005.dat is missing"), so only the names
  // scanners write are accepted: any other text there may be a value someone typed (fuzzer finding).
  if (!/^Index\.dat$/i.test(indexFile)) throw new SlideError('UNSUPPORTED', 'MIRAX slide whose index file is not named Index.dat is not supported yet');

  const fileCount = int(ini, 'DATAFILE', 'FILE_COUNT');
  if (fileCount <= 0 || fileCount > 100000) throw bad('FILE_COUNT is out of range');
  const dataFiles: string[] = [];
  for (let i = 0; i < fileCount; i++) {
    const f = need(ini, 'DATAFILE', `FILE_${i}`);
    if (!/^Data\d{4,}\.dat$/i.test(f)) throw new SlideError('UNSUPPORTED', `MIRAX slide whose Data file FILE_${i} is not named DataNNNN.dat is not supported yet`);
    dataFiles.push(f);
  }

  const zoom: ZoomSection[] = hier[0]!.values.map((v, i) => {
    const g = v.section;
    if (g === undefined) throw bad(`HIER_0_VAL_${i}_SECTION is missing`);
    if (!ini.groups.has(g)) throw bad(`the section of zoom level ${i} is missing`);
    const z: ZoomSection = {
      group: g,
      concatExponent: int(ini, g, 'IMAGE_CONCAT_FACTOR'),
      overlapX: num(ini, g, 'OVERLAP_X'),
      overlapY: num(ini, g, 'OVERLAP_Y'),
      mppX: num(ini, g, 'MICROMETER_PER_PIXEL_X'),
      mppY: num(ini, g, 'MICROMETER_PER_PIXEL_Y'),
      fillBgr: int(ini, g, 'IMAGE_FILL_COLOR_BGR'),
      imageW: int(ini, g, 'DIGITIZER_WIDTH'),
      imageH: int(ini, g, 'DIGITIZER_HEIGHT'),
      format: need(ini, g, 'IMAGE_FORMAT'),
    };
    if (i === 0 ? z.concatExponent < 0 : z.concatExponent <= 0) throw bad(`IMAGE_CONCAT_FACTOR of zoom level ${i} is out of range`);
    if (z.imageW <= 0 || z.imageH <= 0 || z.imageW > 65536 || z.imageH > 65536) throw bad(`the image size of zoom level ${i} is out of range`);
    if (z.format !== 'JPEG') throw new SlideError('UNSUPPORTED', `MIRAX levels stored as ${z.format === 'PNG' || z.format === 'BMP24' ? z.format : 'an unknown format'} are not supported yet`);
    return z;
  });

  const levels = computeLevels(imagesX, imagesY, divisions, zoom);

  const layerOffset = (name: string): number | undefined => nonhier.find((l) => l.name === name)?.values[0]?.record;
  const vimslide = layerOffset(POSITION_BUFFER_LAYER);
  const stitching = vimslide === undefined ? layerOffset(STITCHING_INTENSITY_LAYER) : undefined;
  const position = vimslide !== undefined ? { record: vimslide, compressed: false } : stitching !== undefined ? { record: stitching, compressed: true } : undefined;

  const associated: MiraxLayout['associated'] = [];
  const scan = nonhier.findIndex((l) => l.name === SCAN_DATA_LAYER);
  if (scan >= 0) {
    for (const a of ASSOCIATED) {
      const j = nonhier[scan]!.values.findIndex((v) => v.name === a.value);
      if (j < 0) continue;
      const v = nonhier[scan]!.values[j]!;
      const type = v.section !== undefined ? iniValue(ini, v.section, a.typeKey) : undefined;
      // OpenSlide refuses the whole slide when a named associated image is not a JPEG.
      if (type !== 'JPEG') throw new SlideError('UNSUPPORTED', `MIRAX ${a.name} image that is not a JPEG is not supported`);
      associated.push({ name: a.name, role: a.role, record: v.record, valueKey: `NONHIER_${scan}_VAL_${j}`, ...(v.section !== undefined ? { section: v.section } : {}) });
    }
  }
  return { slideId, imagesX, imagesY, divisions, indexFile, hier, nonhier, dataFiles, zoom, levels, ...(position ? { position } : {}), associated };
}

/**
 * Level sizes exactly as OpenSlide 3.4.1 computes them: the level-0 width adds one image width per
 * image column, minus the overlap after the last image of each camera photo (integer arithmetic
 * after each step, as OpenSlide's int64 sum truncates); level n is that divided by its concat.
 */
function computeLevels(imagesX: number, imagesY: number, divisions: number, zoom: ZoomSection[]): Level[] {
  const z0 = zoom[0]!;
  const base = (count: number, size: number, overlap: number): number => {
    let total = 0;
    for (let i = 0; i < count; i++) total = Math.trunc(total + (i % divisions !== divisions - 1 || i === count - 1 ? size : size - overlap));
    return total;
  };
  const baseW = base(imagesX, z0.imageW, z0.overlapX);
  const baseH = base(imagesY, z0.imageH, z0.overlapY);
  let exponent = 0;
  const concat0 = 2 ** z0.concatExponent;
  return zoom.map((z) => {
    exponent += z.concatExponent;
    if (exponent > 30) throw bad('the image concat exponent is too large');
    const concat = 2 ** exponent;
    return {
      width: Math.floor(baseW / concat),
      height: Math.floor(baseH / concat),
      concat,
      downsample: Math.floor(concat / concat0),
      across: Math.ceil(imagesX / concat),
      down: Math.ceil(imagesY / concat),
      imageW: z.imageW,
      imageH: z.imageH,
    };
  });
}
