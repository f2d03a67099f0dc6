import type { ByteSource } from '../io/byte-source.ts';
import type { EncodedTile, FormatName, MetadataField, Mpp, Slide, SlideImage } from '../formats/slide-format.ts';
import type { RedactionPlan, RedactionRequest } from '../redact/plan-types.ts';
import { SlideError, throwIfAborted, toSlideError } from '../../shared/errors.ts';
import { concatBytes } from '../../shared/bytes.ts';
import { encapsulatedPhotometric, frameCodec, tiffPhotometric } from './codecs.ts';
import { collectFields } from './fields.ts';
import type { WsiInstanceInfo } from './instance.ts';
import { frameIndexMap, notWsiError, pixelSpacing, VL_WSI_SOP_CLASS, wsiInstanceInfo } from './instance.ts';
import type { Part10Header } from './part10.ts';
import { readFileMeta, readPart10Header } from './part10.ts';
import type { PixelDataLayout } from './pixel-data.ts';
import { walkPixelData } from './pixel-data.ts';
import { buildDicomPlan } from './plan.ts';

/** One instance of a DICOM slide, as open() found it. */
export interface DicomInstance {
  part: number;
  header: Part10Header;
  layout: PixelDataLayout;
  info: WsiInstanceInfo;
  image: SlideImage;
  /** Bytes of one native frame (0 for encapsulated data). */
  frameBytes: number;
  frameAt: (col: number, row: number) => number | undefined;
}

/** Open every instance: header (no pixel data), pixel data layout, WSI summary. */
export async function loadInstance(source: ByteSource, part: number, signal?: AbortSignal): Promise<Omit<DicomInstance, 'image'>> {
  const meta = await readFileMeta(source, signal);
  if (meta.sopClassUid && meta.sopClassUid !== VL_WSI_SOP_CLASS) {
    throw notWsiError(source.name, meta.sopClassUid);
  }
  const header = await readPart10Header(source, signal, meta);
  const info = wsiInstanceInfo(header);
  const layout = await walkPixelData(header.pixelSource, header.pixel, signal);
  let frameBytes = 0;
  if (!layout.encapsulated) {
    frameBytes = (info.tileWidth * info.tileHeight * info.samplesPerPixel * info.bitsAllocated) / 8;
    if (layout.valueLength < frameBytes * info.frames) {
      // Counts and sizes read from the header stay out of the message: they are values from the file.
      throw new SlideError('CORRUPT', `${source.name}: Pixel Data is shorter than the frames its header declares`);
    }
  } else if (layout.fragments.length < info.frames) {
    throw new SlideError('CORRUPT', `${source.name}: fewer pixel data fragments than the frames its header declares`);
  }
  return { part, header, layout, info, frameBytes, frameAt: frameIndexMap(info, header.dataset) };
}

/** Codestream start markers: JPEG SOI (also JPEG-LS and lossless), JPEG 2000 / HTJ2K SOC. */
const FRAME_START_MARKERS = new Set([0xffd8, 0xff4f]);
const frameStartCache = new WeakMap<DicomInstance, number[] | null>();

/**
 * Index of each frame's first fragment, when frames span several fragments: from the Basic
 * Offset Table when it has an entry per frame, else from the fragments that open with a
 * codestream start marker (only when there is exactly one per frame; a chance marker at a
 * fragment boundary inside a JPEG 2000 codestream then shows up as a count that does not add up).
 * Null when neither works.
 */
function frameStarts(inst: DicomInstance): number[] | null {
  const cached = frameStartCache.get(inst);
  if (cached !== undefined) return cached;
  const { fragments, basicOffsetTable } = inst.layout;
  const frames = inst.info.frames;
  let starts: number[] | null = null;
  if (basicOffsetTable.length === frames && fragments.length > 0) {
    // Offsets count from the first fragment's item tag, 8 bytes before its value.
    const origin = fragments[0]!.offset - 8;
    starts = [];
    let i = 0;
    for (const offset of basicOffsetTable) {
      while (i < fragments.length && fragments[i]!.offset - 8 - origin < offset) i++;
      if (i >= fragments.length || (starts.length > 0 && i <= starts[starts.length - 1]!)) {
        starts = null;
        break;
      }
      starts.push(i);
    }
  } else if (basicOffsetTable.length === 0) {
    const marked = fragments.flatMap((f, i) => (f.lead !== undefined && FRAME_START_MARKERS.has(f.lead) ? [i] : []));
    if (marked.length === frames && marked[0] === 0) starts = marked;
  }
  frameStartCache.set(inst, starts);
  return starts;
}

function stem(name: string): string {
  return name.replace(/\.(dcm|dicom)$/i, '') || 'slide';
}

export class DicomSlide implements Slide {
  readonly format: FormatName = 'dicom-wsi';
  readonly name: string;
  readonly images: SlideImage[];
  readonly fields: MetadataField[];
  readonly mpp?: Mpp;
  readonly width: number;
  readonly height: number;

  constructor(readonly parts: ByteSource[], readonly instances: DicomInstance[]) {
    this.images = instances.map((i) => i.image);
    const base = instances.find((i) => i.image.role === 'level' && i.image.level === 0);
    if (!base) throw new SlideError('UNSUPPORTED', `${parts[0].name}: no pyramid level (VOLUME image) among the DICOM instances`);
    // Named after the full-resolution instance's file: stable whatever order the parts come in.
    this.name = stem(parts[base.part].name);
    this.width = base.image.width;
    this.height = base.image.height;
    const spacing = pixelSpacing(base.header.dataset);
    if (spacing) this.mpp = { x: spacing.col * 1000, y: spacing.row * 1000, source: 'dicom:PixelSpacing' };
    this.fields = collectFields(instances.map((i) => ({ dataset: i.header.dataset, location: i.image.id })));
  }

  private instance(imageId: string): DicomInstance {
    const inst = this.instances.find((i) => i.image.id === imageId);
    if (!inst) throw new SlideError('NOT_FOUND', `${this.name}: no image ${imageId}`);
    return inst;
  }

  async readTile(imageId: string, col: number, row: number, signal?: AbortSignal): Promise<EncodedTile> {
    const inst = this.instance(imageId);
    const name = inst.header.name;
    const codec = frameCodec(inst.header.transferSyntax);
    if (!codec.codec) throw new SlideError('UNSUPPORTED', `${name}: ${codec.name} frames cannot be displayed`);
    const frame = inst.frameAt(col, row);
    if (frame === undefined) throw new SlideError('NOT_FOUND', `${name}: no tile at column ${col}, row ${row}`);
    const src = inst.header.pixelSource;
    const tile = { codec: codec.codec, width: inst.info.tileWidth, height: inst.info.tileHeight };
    try {
      const layout = { samplesPerPixel: inst.info.samplesPerPixel, bitsPerSample: inst.info.bitsAllocated, predictor: 1, photometric: tiffPhotometric(inst.info.photometric), planar: inst.info.planar + 1 };
      if (!inst.layout.encapsulated) {
        const bytes = await src.read(inst.layout.valueOffset + frame * inst.frameBytes, inst.frameBytes, signal);
        return { ...tile, bytes, layout };
      }
      const bytes = await this.encapsulatedFrame(inst, frame, signal);
      // RLE decodes by sample planes into interleaved pixels, whatever the Planar Configuration says.
      if (codec.codec === 'dicom/rle') return { ...tile, bytes, layout: { ...layout, planar: 1 } };
      // JPEG 2000 / JPEG-LS decoders (codecs/decode-tile.ts) need the components' colour meaning.
      if (codec.codec === 'image/jp2' || codec.codec === 'image/jls') {
        return { ...tile, bytes, layout: { ...layout, planar: 1, photometric: encapsulatedPhotometric(codec.codec, inst.info.photometric) } };
      }
      return { ...tile, bytes };
    } catch (e) {
      throw toSlideError(e, name);
    }
  }

  /**
   * One fragment per frame is the norm; otherwise the Basic Offset Table says which fragments, and
   * without one the codestream start markers do (PS3.5 A.4: a frame's fragments are consecutive).
   */
  private async encapsulatedFrame(inst: DicomInstance, frame: number, signal?: AbortSignal): Promise<Uint8Array> {
    const { fragments } = inst.layout;
    const src = inst.header.pixelSource;
    if (fragments.length === inst.info.frames) return src.read(fragments[frame].offset, fragments[frame].length, signal);
    const starts = frameStarts(inst);
    if (!starts) throw new SlideError('UNSUPPORTED', `${inst.header.name}: frames span several fragments and there is no offset table`);
    const parts: Uint8Array[] = [];
    const last = frame + 1 < starts.length ? starts[frame + 1]! : fragments.length;
    for (let i = starts[frame]!; i < last; i++) {
      throwIfAborted(signal);
      parts.push(await src.read(fragments[i]!.offset, fragments[i]!.length, signal));
    }
    return concatBytes(parts);
  }

  plan(request: RedactionRequest, signal?: AbortSignal): Promise<RedactionPlan> {
    return buildDicomPlan(this, request, signal);
  }
}

/** Build the slide from its instances: images ordered levels first (largest first), then others. */
export async function openDicomSlide(parts: ByteSource[], signal?: AbortSignal): Promise<DicomSlide> {
  const loaded: Omit<DicomInstance, 'image'>[] = [];
  for (let i = 0; i < parts.length; i++) {
    throwIfAborted(signal);
    try {
      loaded.push(await loadInstance(parts[i], i, signal));
    } catch (e) {
      throw toSlideError(e, parts[i].name);
    }
  }
  const widths = [...new Set(loaded.filter((l) => l.info.role === 'level').map((l) => l.info.width))].sort((a, b) => b - a);
  const instances: DicomInstance[] = loaded.map((l) => ({
    ...l,
    image: {
      id: `part-${l.part}`,
      role: l.info.role,
      width: l.info.width,
      height: l.info.height,
      ...(l.info.role === 'level' ? { level: widths.indexOf(l.info.width) } : {}),
      tileWidth: l.info.tileWidth,
      tileHeight: l.info.tileHeight,
      compression: frameCodec(l.header.transferSyntax).name,
      part: l.part,
    },
  }));
  const order = { level: 0, thumbnail: 1, overview: 2, label: 3 } as const;
  instances.sort((a, b) => order[a.image.role] - order[b.image.role] || (a.image.level ?? 0) - (b.image.level ?? 0) || a.part - b.part);
  return new DicomSlide(parts, instances);
}
