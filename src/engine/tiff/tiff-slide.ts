import { SlideError } from '../../shared/errors.ts';
import type { ByteSource } from '../io/byte-source.ts';
import type { EncodedTile, FormatName, MetadataField, Mpp, OutputCheckOptions, Slide, SlideImage } from '../formats/slide-format.ts';
import type { RedactionPlan, RedactionRequest } from '../redact/plan-types.ts';
import { standaloneJpeg } from '../codecs/jpeg.ts';
import type { TiffField } from './fields.ts';
import { planTiffRedaction, type TiffPlanImage } from './plan.ts';
import { compressionName, Tag } from './tags.ts';
import type { Ifd, TiffFile } from './tifflike.ts';
import type { TiffVendorProfile } from './vendor-profile.ts';
import { verifyTiffOutput } from './verify-output.ts';

/** A single encoded tile bigger than this is refused (no real tile comes close). */
const MAX_TILE_BYTES = 256 * 1024 * 1024;

export interface TiffSlideInit {
  format: FormatName;
  source: ByteSource;
  tiff: TiffFile;
  images: TiffPlanImage[];
  fields: TiffField[];
  /** The vendor's additions to the allowlist (none for generic TIFF). */
  profile?: TiffVendorProfile;
  mpp?: Mpp;
}

/** The Slide shared by the TIFF-family drivers; the drivers differ in roles and fields. */
export class TiffSlide implements Slide {
  readonly format: FormatName;
  readonly name: string;
  readonly parts: ByteSource[];
  readonly images: SlideImage[];
  readonly fields: MetadataField[];
  readonly mpp?: Mpp;
  readonly width: number;
  readonly height: number;
  readonly tiff: TiffFile;
  private readonly planImages: TiffPlanImage[];
  private readonly tiffFields: TiffField[];
  readonly profile: TiffVendorProfile | undefined;

  constructor(init: TiffSlideInit) {
    this.format = init.format;
    this.name = init.source.name;
    this.parts = [init.source];
    this.tiff = init.tiff;
    this.planImages = init.images;
    this.tiffFields = init.fields;
    this.profile = init.profile;
    this.images = init.images.map(({ id, role, info }) => {
      const img: SlideImage = { id, role, width: info.width, height: info.height, compression: compressionName(info.compression), part: 0 };
      if (info.tiled) {
        img.tileWidth = info.tileWidth;
        img.tileHeight = info.tileHeight;
      }
      return img;
    });
    const levels = this.images.filter((i) => i.role === 'level').sort((a, b) => b.width - a.width);
    levels.forEach((l, i) => (l.level = i));
    this.fields = init.fields.map(({ occurrences: _o, values: _v, ...f }) => ({ ...f, locations: [...(f.locations ?? [])] }));
    if (init.mpp) this.mpp = init.mpp;
    this.width = levels[0]?.width ?? 0;
    this.height = levels[0]?.height ?? 0;
  }

  async readTile(imageId: string, col: number, row: number, signal?: AbortSignal): Promise<EncodedTile> {
    const img = this.planImages.find((i) => i.id === imageId);
    if (!img) throw new SlideError('BAD_REQUEST', `no image "${imageId}"`);
    const info = img.info;
    if (!(Number.isInteger(col) && Number.isInteger(row) && col >= 0 && row >= 0 && col < info.across && row < info.down)) {
      throw new SlideError('BAD_REQUEST', `tile ${col},${row} is outside image "${imageId}"`);
    }
    const index = row * info.across + col;
    const [offset] = await this.tiff.readNumbers(info.offsets, index, 1, signal);
    const [length] = await this.tiff.readNumbers(info.byteCounts, index, 1, signal);
    if (length! > MAX_TILE_BYTES) throw new SlideError('UNSUPPORTED', 'a tile is too large to read');
    const raw = await this.tiff.source.read(offset!, length!, signal);
    if (raw.length !== length) throw new SlideError('TRUNCATED', 'the file ends inside a tile');
    const width = info.tileWidth;
    const height = info.tiled ? info.tileHeight : Math.min(info.tileHeight, info.height - row * info.tileHeight);
    const layout = { samplesPerPixel: info.samplesPerPixel, bitsPerSample: info.bitsPerSample, predictor: info.predictor, photometric: info.photometric, planar: info.planar };
    switch (info.compression) {
      case 7: {
        const tables = this.tiff.entry(info.ifd, Tag.JPEGTables)?.value;
        return { bytes: standaloneJpeg(raw, tables, info.photometric), codec: 'image/jpeg', width, height };
      }
      // Aperio 33003 codestreams hold YCbCr whatever the Photometric tag says (OpenSlide's reading).
      case 33003: return { bytes: raw, codec: 'image/jp2', width, height, layout: { ...layout, photometric: 6 } };
      case 33005: case 34712:
        return { bytes: raw, codec: 'image/jp2', width, height, layout };
      case 5: return { bytes: raw, codec: 'tiff/lzw', width, height, layout };
      case 8: case 32946: return { bytes: raw, codec: 'tiff/deflate', width, height, layout };
      case 1: return { bytes: raw, codec: 'raw', width, height, layout };
      default: throw new SlideError('UNSUPPORTED', `tiles compressed with ${compressionName(info.compression)} cannot be shown`);
    }
  }

  plan(request: RedactionRequest, signal?: AbortSignal): Promise<RedactionPlan> {
    return planTiffRedaction(this.tiff, this.name, this.tiffFields, this.planImages, request, this.profile, signal);
  }

  verifyAsOutput(opts: OutputCheckOptions): Promise<string[]> {
    return verifyTiffOutput(this.parts[0]!, this.tiff, this.tiffFields, this.profile, opts);
  }
}

/** MPP from X/YResolution + ResolutionUnit (inch or centimetre), if plausible for a microscope. */
export function mppFromResolution(tiff: TiffFile, ifd: Ifd): Mpp | undefined {
  const unit = tiff.number(ifd, Tag.ResolutionUnit);
  const xr = tiff.number(ifd, Tag.XResolution);
  const yr = tiff.number(ifd, Tag.YResolution);
  // Without an explicit unit the resolution is usually a 72-dpi default, not a measurement.
  const micronsPerUnit = unit === 3 ? 10000 : unit === 2 ? 25400 : undefined;
  if (!micronsPerUnit || !xr || !yr || !(xr > 0) || !(yr > 0)) return undefined;
  const x = micronsPerUnit / xr;
  const y = micronsPerUnit / yr;
  if (!plausibleMpp(x) || !plausibleMpp(y)) return undefined;
  return { x, y, source: `TIFF resolution (${unit === 3 ? 'cm' : 'inch'})` };
}

/** Microscopy pixel sizes lie far inside this range; screen defaults (72 dpi = 352 µm) do not. */
export function plausibleMpp(v: number): boolean {
  return Number.isFinite(v) && v > 0.01 && v < 100;
}

/** Compressions a viewer (browser, OpenSlide) can decode; a pyramid in anything else is refused. */
const DECODABLE = new Set([1, 5, 7, 8, 32946, 33003, 33005, 34712, 32773]);

export function requireDecodableLevels(images: { role: string; info: { compression: number } }[]): void {
  for (const img of images) {
    if (img.role === 'level' && !DECODABLE.has(img.info.compression)) {
      throw new SlideError('UNSUPPORTED', `the slide uses ${compressionName(img.info.compression)}, which cannot be decoded`);
    }
  }
}
