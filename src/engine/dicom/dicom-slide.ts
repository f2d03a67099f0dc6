import type { ByteSource } from '../io/byte-source.ts';
import type { EncodedTile, FormatName, MetadataField, Mpp, Slide, SlideImage } from '../formats/slide-format.ts';
import type { RedactionPlan, RedactionRequest } from '../redact/plan-types.ts';
import { SlideError, throwIfAborted, toSlideError } from '../../shared/errors.ts';
import { frameCodec, tiffPhotometric } from './codecs.ts';
import { collectFields } from './fields.ts';
import type { WsiInstanceInfo } from './instance.ts';
import { frameIndexMap, pixelSpacing, sopClassName, VL_WSI_SOP_CLASS, wsiInstanceInfo } from './instance.ts';
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
    throw new SlideError('UNSUPPORTED', `${source.name}: DICOM ${sopClassName(meta.sopClassUid)} is not a whole-slide image`, { detail: `SOP class ${meta.sopClassUid}` });
  }
  const header = await readPart10Header(source, signal, meta);
  const info = wsiInstanceInfo(header);
  const layout = await walkPixelData(header.pixelSource, header.pixel, signal);
  let frameBytes = 0;
  if (!layout.encapsulated) {
    frameBytes = (info.tileWidth * info.tileHeight * info.samplesPerPixel * info.bitsAllocated) / 8;
    if (layout.valueLength < frameBytes * info.frames) {
      throw new SlideError('CORRUPT', `${source.name}: Pixel Data is shorter than ${info.frames} frame(s) of ${info.tileWidth}×${info.tileHeight}`);
    }
  } else if (layout.fragments.length < info.frames) {
    throw new SlideError('CORRUPT', `${source.name}: ${layout.fragments.length} pixel data fragment(s) for ${info.frames} frame(s)`);
  }
  return { part, header, layout, info, frameBytes, frameAt: frameIndexMap(info, header.dataset) };
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
      if (!inst.layout.encapsulated) {
        const bytes = await src.read(inst.layout.valueOffset + frame * inst.frameBytes, inst.frameBytes, signal);
        const layout = { samplesPerPixel: inst.info.samplesPerPixel, bitsPerSample: inst.info.bitsAllocated, predictor: 1, photometric: tiffPhotometric(inst.info.photometric), planar: inst.info.planar + 1 };
        return { ...tile, bytes, layout };
      }
      return { ...tile, bytes: await this.encapsulatedFrame(inst, frame, signal) };
    } catch (e) {
      throw toSlideError(e, name);
    }
  }

  /** One fragment per frame is the norm; otherwise the Basic Offset Table says which fragments. */
  private async encapsulatedFrame(inst: DicomInstance, frame: number, signal?: AbortSignal): Promise<Uint8Array> {
    const { fragments, basicOffsetTable } = inst.layout;
    const src = inst.header.pixelSource;
    if (fragments.length === inst.info.frames) return src.read(fragments[frame].offset, fragments[frame].length, signal);
    if (basicOffsetTable.length !== inst.info.frames) {
      throw new SlideError('UNSUPPORTED', `${inst.header.name}: frames span several fragments and there is no offset table`);
    }
    const origin = fragments[0].offset - 8;
    const start = origin + basicOffsetTable[frame];
    const end = frame + 1 < basicOffsetTable.length ? origin + basicOffsetTable[frame + 1] : Infinity;
    const parts: Uint8Array[] = [];
    for (const f of fragments) {
      throwIfAborted(signal);
      if (f.offset - 8 >= start && f.offset - 8 < end) parts.push(await src.read(f.offset, f.length, signal));
    }
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
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
