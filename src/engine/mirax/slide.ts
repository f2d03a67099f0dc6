import { SlideError, throwIfAborted } from '../../shared/errors.ts';
import type { ByteSource } from '../io/byte-source.ts';
import type { EncodedTile, IncompleteSlide, Mpp, OutputCheckOptions, Slide, SlideImage } from '../formats/slide-format.ts';
import type { RedactionPlan, RedactionRequest } from '../redact/plan-types.ts';
import { collectFields, type MiraxField } from './fields.ts';
import { type IniFile, parseIni } from './ini.ts';
import { type HierItem, type HierRecord, type IndexReader, type MiraxIndex, type NonHierRecord, readHierRecord, readIndexHeader, readNonHierRecord } from './index-file.ts';
import { type AssociatedName, type MiraxLayout, readLayout } from './layout.ts';
import { baseName, findPart, isMrxs, isSlidedat } from './parts.ts';
import { jpegSize } from '../codecs/jpeg-size.ts';
import { buildMiraxPlan } from './plan.ts';
import { verifyMiraxOutput } from './verify.ts';

/** Everything open() learnt, for plan() and verifyAsOutput() (which read nothing else from the index). */
export interface MiraxModel {
  stem: string;
  ini: IniFile;
  layout: MiraxLayout;
  index: MiraxIndex;
  indexBytes: Uint8Array;
  /** Zoom-level records (one per level; null = empty). */
  zoom: (HierRecord | null)[];
  /** Hierarchical records beyond the zoom levels that hold data (never kept). */
  otherHier: number;
  /** Every non-hierarchical record that could be read (null = empty or unreadable). */
  nonhier: (NonHierRecord | null)[];
  /** Part index of each Data file (undefined = not given). */
  data: (number | undefined)[];
  mrxs: number;
  slidedat: number;
  indexPart: number;
}

const MAX_INDEX = 512 * 1024 * 1024;

export async function openMiraxSlide(parts: ByteSource[], signal?: AbortSignal): Promise<MiraxSlide> {
  const mrxsParts = parts.map((p, i) => (isMrxs(p) ? i : -1)).filter((i) => i >= 0);
  if (mrxsParts.length > 1) throw new SlideError('BAD_REQUEST', 'more than one .mrxs file was given for one slide');
  const slidedatPart = parts.findIndex(isSlidedat);
  if (mrxsParts.length === 0) throw new SlideError('TRUNCATED', 'the .mrxs file of this MIRAX slide was not given (choose it together with its folder)');
  const mrxs = mrxsParts[0]!;
  const stem = baseName(parts[mrxs]!).replace(/\.mrxs$/i, '');
  if (slidedatPart < 0) throw new SlideError('TRUNCATED', 'the MIRAX slide folder (Slidedat.ini, Index.dat, Data files) was not given with the .mrxs file');
  findPart(parts, 'Slidedat.ini');
  const iniSource = parts[slidedatPart]!;
  const ini = parseIni(await readAll(iniSource, 1 << 20, signal), 'Slidedat.ini');
  const layout = readLayout(ini);

  const indexPart = findPart(parts, layout.indexFile);
  if (indexPart === undefined) throw new SlideError('TRUNCATED', 'Index.dat is missing from the MIRAX slide folder');
  const indexBytes = await readAll(parts[indexPart]!, MAX_INDEX, signal);
  const hierCount = layout.hier.reduce((a, l) => a + l.values.length, 0);
  const nonhierCount = layout.nonhier.reduce((a, l) => a + l.values.length, 0);
  const { index, reader } = readIndexHeader(indexBytes, layout.slideId, hierCount, nonhierCount);

  const data = layout.dataFiles.map((f) => findPart(parts, f));
  const sizeOf = (fileno: number): number | undefined => (data[fileno] === undefined ? undefined : parts[data[fileno]!]!.size);
  const checkRef = (ref: { offset: number; length: number; fileno: number }, what: string): void => {
    if (ref.fileno >= layout.dataFiles.length) throw new SlideError('CORRUPT', `Index.dat: the ${what} names a Data file that Slidedat.ini does not list`);
    const size = sizeOf(ref.fileno);
    if (size !== undefined && ref.offset + ref.length > size) throw new SlideError('TRUNCATED', `${layout.dataFiles[ref.fileno]} is cut short: the ${what} ends after the end of the file`);
  };

  const zoom: (HierRecord | null)[] = [];
  for (let level = 0; level < layout.levels.length; level++) {
    throwIfAborted(signal);
    const rec = readHierRecord(reader, index.hierEntries[level]!, `zoom level ${level}`);
    const concat = layout.levels[level]!.concat;
    for (const it of rec?.items ?? []) {
      const x = it.imageIndex % layout.imagesX;
      const y = Math.floor(it.imageIndex / layout.imagesX);
      if (y >= layout.imagesY || x % concat !== 0 || y % concat !== 0) throw new SlideError('CORRUPT', `Index.dat: an image of zoom level ${level} lies off the level's grid`);
      checkRef(it, `image data of zoom level ${level}`);
    }
    zoom.push(rec);
  }
  const otherHier = index.hierEntries.slice(layout.levels.length).filter((e) => e !== 0).length;

  const nonhier: (NonHierRecord | null)[] = [];
  const needed = new Set<number>([...(layout.position ? [layout.position.record] : []), ...layout.associated.map((a) => a.record)]);
  for (let i = 0; i < index.nonhierEntries.length; i++) {
    if (needed.has(i)) {
      const rec = readNonHierRecord(reader, index.nonhierEntries[i]!, `record ${i}`);
      if (!rec) throw new SlideError('CORRUPT', `Index.dat: record ${i}, which Slidedat.ini names, is empty`);
      checkRef(rec.item, `record ${i}`);
      nonhier.push(rec);
    } else {
      // Records OpenSlide does not read are dropped from the output; read them only to know their bytes.
      let rec: NonHierRecord | null = null;
      try {
        rec = readNonHierRecord(reader, index.nonhierEntries[i]!, `record ${i}`);
        if (rec && rec.item.fileno >= layout.dataFiles.length) rec = null;
      } catch {
        rec = null;
      }
      nonhier.push(rec);
    }
  }
  if (layout.position) {
    const pos = nonhier[layout.position.record]!;
    if (data[pos.item.fileno] === undefined) throw new SlideError('TRUNCATED', `${layout.dataFiles[pos.item.fileno]} (the tile positions) is missing from the MIRAX slide folder`);
    const expected = 9 * Math.floor(layout.imagesX / layout.divisions) * Math.floor(layout.imagesY / layout.divisions);
    if (!layout.position.compressed && pos.item.length !== expected) throw new SlideError('CORRUPT', 'the tile position record does not have the expected size');
  }

  const model: MiraxModel = { stem, ini, layout, index, indexBytes, zoom, otherHier, nonhier, data, mrxs, slidedat: slidedatPart, indexPart };
  return new MiraxSlide(parts, model, await associatedImages(parts, model, signal));
}

async function readAll(source: ByteSource, max: number, signal?: AbortSignal): Promise<Uint8Array> {
  if (source.size > max) throw new SlideError('UNSUPPORTED', `${baseName(source)} is too large`);
  const b = await source.read(0, source.size, signal);
  if (b.length !== source.size) throw new SlideError('TRUNCATED', `${baseName(source)} ended while it was read`);
  return b;
}

async function associatedImages(parts: ByteSource[], m: MiraxModel, signal?: AbortSignal): Promise<SlideImage[]> {
  const out: SlideImage[] = [];
  for (const a of m.layout.associated) {
    const rec = m.nonhier[a.record]!;
    const part = m.data[rec.item.fileno];
    let width = 0;
    let height = 0;
    if (part !== undefined) {
      const head = await parts[part]!.read(rec.item.offset, Math.min(rec.item.length, 65536), signal);
      const size = jpegSize(head);
      if (size) ({ width, height } = size);
    }
    out.push({ id: a.name, role: a.role, width, height, compression: 'JPEG', part: part ?? m.mrxs });
  }
  return out;
}

/** A MIRAX slide: levels as a grid of the stored JPEG images, label/macro/thumbnail, Slidedat.ini fields. */
export class MiraxSlide implements Slide {
  readonly format = 'mirax' as const;
  readonly name: string;
  readonly images: SlideImage[];
  readonly fields: MiraxField[];
  readonly mpp?: Mpp;
  readonly width: number;
  readonly height: number;
  readonly incomplete?: IncompleteSlide;
  /** Per level: stored image by grid cell (row * across + col). */
  private readonly cells: Map<number, HierItem>[];

  constructor(readonly parts: ByteSource[], readonly model: MiraxModel, associated: SlideImage[]) {
    const { layout } = model;
    this.name = baseName(parts[model.mrxs]!);
    this.width = layout.levels[0]!.width;
    this.height = layout.levels[0]!.height;
    const z0 = layout.zoom[0]!;
    if (z0.mppX > 0 && z0.mppY > 0) this.mpp = { x: z0.mppX, y: z0.mppY, source: 'Slidedat.ini MICROMETER_PER_PIXEL_X/Y of zoom level 0' };
    this.fields = collectFields(model.ini, layout);
    this.cells = layout.levels.map((lv, i) => {
      const m = new Map<number, HierItem>();
      for (const it of model.zoom[i]?.items ?? []) {
        const x = it.imageIndex % layout.imagesX;
        const y = Math.floor(it.imageIndex / layout.imagesX);
        m.set((y / lv.concat) * lv.across + x / lv.concat, it);
      }
      return m;
    });
    const levels: SlideImage[] = layout.levels.map((lv, i) => {
      const first = model.zoom[i]?.items[0];
      return {
        id: `level-${i}`, role: 'level', level: i, width: lv.width, height: lv.height, tileWidth: lv.imageW, tileHeight: lv.imageH, compression: 'JPEG',
        part: (first && model.data[first.fileno]) ?? model.indexPart,
      };
    });
    this.images = [...levels, ...associated];
    const missingFiles = layout.dataFiles.filter((_, i) => model.data[i] === undefined);
    if (missingFiles.length > 0) {
      const missingLevels = layout.levels.map((_, i) => i).filter((i) => (model.zoom[i]?.items ?? []).some((it) => model.data[it.fileno] === undefined));
      const levelsText = missingLevels.length === 0 ? 'no pyramid level is affected' : `level${missingLevels.length > 1 ? 's' : ''} ${missingLevels.join(', ')} cannot be read`;
      this.incomplete = {
        missingFiles,
        missingLevels,
        message: `the MIRAX slide is incomplete: ${missingFiles.join(', ')} ${missingFiles.length > 1 ? 'are' : 'is'} missing from its folder, so ${levelsText}`,
      };
    }
  }

  /** The Data file part of a reference, or a clear error when the file was not given. */
  dataPart(fileno: number): ByteSource {
    const p = this.model.data[fileno];
    if (p === undefined) throw new SlideError('TRUNCATED', `${this.model.layout.dataFiles[fileno]} is missing from the MIRAX slide folder`);
    return this.parts[p]!;
  }

  /**
   * Levels are shown as the grid of stored images: the image whose level-0 grid position is (x, y)
   * sits at column x / concat, row y / concat, edge to edge. Camera overlaps are NOT resolved (the
   * viewer gets one encoded image per cell and cannot composite): overlapping strips appear twice
   * and the grid is slightly larger than the level, so its last columns/rows are cut at the level's
   * edge. OpenSlide places images by the position buffer; our grid is a preview, not a re-stitch.
   * An empty cell (not scanned) is a tile of the level's fill colour.
   */
  async readTile(imageId: string, col: number, row: number, signal?: AbortSignal): Promise<EncodedTile> {
    const assoc = this.model.layout.associated.find((a) => a.name === (imageId as AssociatedName));
    if (assoc) {
      if (col !== 0 || row !== 0) throw new SlideError('BAD_REQUEST', `tile ${col},${row} is outside image "${imageId}"`);
      const it = this.model.nonhier[assoc.record]!.item;
      const img = this.images.find((i) => i.id === imageId)!;
      return { bytes: await this.readRef(it, signal), codec: 'image/jpeg', width: img.width, height: img.height };
    }
    const m = /^level-(\d+)$/.exec(imageId);
    const level = m ? Number(m[1]) : -1;
    const lv = this.model.layout.levels[level];
    if (!lv) throw new SlideError('BAD_REQUEST', `no image "${imageId}"`);
    if (!(Number.isInteger(col) && Number.isInteger(row) && col >= 0 && row >= 0 && col < lv.across && row < lv.down)) {
      throw new SlideError('BAD_REQUEST', `tile ${col},${row} is outside image "${imageId}"`);
    }
    const it = this.cells[level]!.get(row * lv.across + col);
    if (!it) return this.fillTile(level);
    return { bytes: await this.readRef(it, signal), codec: 'image/jpeg', width: lv.imageW, height: lv.imageH };
  }

  private async readRef(it: { offset: number; length: number; fileno: number }, signal?: AbortSignal): Promise<Uint8Array> {
    if (it.length > 64 * 1024 * 1024) throw new SlideError('UNSUPPORTED', 'an image is too large to read');
    const b = await this.dataPart(it.fileno).read(it.offset, it.length, signal);
    if (b.length !== it.length) throw new SlideError('TRUNCATED', `${this.model.layout.dataFiles[it.fileno]} ends inside an image`);
    return b;
  }

  private fillTile(level: number): EncodedTile {
    const lv = this.model.layout.levels[level]!;
    const bgr = this.model.layout.zoom[level]!.fillBgr;
    const px = new Uint8Array(lv.imageW * lv.imageH * 3);
    for (let i = 0; i < px.length; i += 3) {
      px[i] = bgr & 0xff;
      px[i + 1] = (bgr >>> 8) & 0xff;
      px[i + 2] = (bgr >>> 16) & 0xff;
    }
    return { bytes: px, codec: 'raw', width: lv.imageW, height: lv.imageH, layout: { samplesPerPixel: 3, bitsPerSample: 8, predictor: 1, photometric: 2, planar: 1 } };
  }

  async plan(request: RedactionRequest, signal?: AbortSignal): Promise<RedactionPlan> {
    return buildMiraxPlan(this, request, signal);
  }

  async verifyAsOutput(opts: OutputCheckOptions): Promise<string[]> {
    return verifyMiraxOutput(this, opts);
  }
}
