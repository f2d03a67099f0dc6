import { SlideError } from '../../../shared/errors.ts';
import { attr, elements, localName, type XmlDocument, type XmlElement } from '../../xml/xml-tree.ts';

/**
 * The tile-placement part of level 0's EncodeInfo, checked the way OpenSlide 3.4.1 reads it
 * (openslide-vendor-ventana.c, parse_level0_xml): one SlideStitchInfo/ImageInfo per AOI, paired
 * by position with AoiOrigin's children; each scanned AOI's tile size equals the TIFF tile size,
 * its origin is a whole number of tiles, and each TileJointInfo joins two neighbouring tiles
 * (tiles numbered from 1, rows from the bottom, every second row right to left). A file that
 * OpenSlide would refuse is refused here, with the reason in words and no metadata value.
 */
export interface EncodeInfoSummary {
  aois: number;
  scannedAois: number;
  joints: number;
}

export function checkEncodeInfo(doc: XmlDocument, tileWidth: number, tileHeight: number): EncodeInfoSummary {
  const root = doc.root;
  if (localName(root.name) !== 'EncodeInfo') throw new SlideError('UNSUPPORTED', 'the level 0 XMP of this Ventana BIF is not EncodeInfo tile placement information');
  const infos = elements(root, 'SlideStitchInfo').flatMap((s) => elements(s, 'ImageInfo'));
  const origins = elements(root, 'AoiOrigin').flatMap((o) => o.children.filter((c): c is XmlElement => c.kind === 'element'));
  if (infos.length === 0 || infos.length !== origins.length) throw new SlideError('UNSUPPORTED', 'Ventana BIF with missing or inconsistent AOI information');
  let scanned = 0;
  let joints = 0;
  infos.forEach((info, i) => {
    if (int(info, 'AOIScanned') === 0) return;
    scanned++;
    const origin = origins[i]!;
    const width = int(info, 'Width');
    const height = int(info, 'Height');
    if (width !== tileWidth || height !== tileHeight) throw new SlideError('UNSUPPORTED', 'Ventana AOI tile size differs from the TIFF tile size');
    if (int(origin, 'OriginX') % width !== 0 || int(origin, 'OriginY') % height !== 0) throw new SlideError('UNSUPPORTED', 'Ventana AOI origin is not a whole number of tiles');
    const cols = int(info, 'NumCols');
    const rows = int(info, 'NumRows');
    if (cols < 1 || rows < 1) throw new SlideError('UNSUPPORTED', 'Ventana AOI has no tiles');
    num(info, 'Pos-X');
    num(info, 'Pos-Y');
    for (const j of elements(info, 'TileJointInfo')) {
      joints++;
      const [c1, r1] = tilePosition(int(j, 'Tile1'), cols, rows);
      const [c2, r2] = tilePosition(int(j, 'Tile2'), cols, rows);
      const direction = attr(j, 'Direction');
      // OpenSlide 3.4.1 knows RIGHT and UP only; a file with other joints does not open there.
      const ok = direction === 'RIGHT' ? c2 === c1 + 1 && r2 === r1 : direction === 'UP' ? c2 === c1 && r2 === r1 - 1 : undefined;
      if (ok === undefined) throw new SlideError('UNSUPPORTED', 'Ventana tile joints other than RIGHT and UP are not supported yet');
      if (!ok) throw new SlideError('UNSUPPORTED', 'a Ventana tile joint does not join neighbouring tiles');
      num(j, 'OverlapX');
      num(j, 'OverlapY');
      int(j, 'Confidence');
    }
  });
  if (scanned === 0) throw new SlideError('UNSUPPORTED', 'Ventana BIF without a scanned AOI');
  return { aois: infos.length, scannedAois: scanned, joints };
}

/** Column and row (rows from the top) of a 1-based serpentine tile number. */
function tilePosition(tile: number, cols: number, rows: number): [number, number] {
  if (tile < 1 || tile > cols * rows) throw new SlideError('UNSUPPORTED', 'a Ventana tile joint names a tile outside its AOI');
  const t = tile - 1;
  let col = t % cols;
  const fromBottom = Math.floor(t / cols);
  if (fromBottom % 2 === 1) col = cols - col - 1;
  return [col, rows - fromBottom - 1];
}

function num(e: XmlElement, name: string): number {
  const v = attr(e, name);
  const n = v === undefined || v.trim() === '' ? NaN : Number(v);
  if (!Number.isFinite(n)) throw new SlideError('UNSUPPORTED', `Ventana ${localName(e.name)} lacks a numeric ${name}`);
  return n;
}

function int(e: XmlElement, name: string): number {
  const n = num(e, name);
  if (!Number.isInteger(n)) throw new SlideError('UNSUPPORTED', `Ventana ${localName(e.name)} ${name} is not a whole number`);
  return n;
}
