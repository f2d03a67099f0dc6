import { SlideError, throwIfAborted } from '../../shared/errors.ts';
import type { ByteSource } from '../io/byte-source.ts';
import type { RedactionPlan, RedactionRequest } from '../redact/plan-types.ts';
import { detectTiffVendor, tiffFromContext } from '../tiff/context.ts';
import { collectTiffFields } from '../tiff/fields.ts';
import { readImageInfo } from '../tiff/image-info.ts';
import type { TiffPlanImage } from '../tiff/plan.ts';
import { Tag } from '../tiff/tags.ts';
import { plausibleMpp, requireDecodableLevels, TiffSlide } from '../tiff/tiff-slide.ts';
import type { TiffFile } from '../tiff/tifflike.ts';
import { ASSOCIATED_PREFIXES, loadPhilipsXml, PHILIPS_SOFTWARE, philipsProfile } from './philips/philips-profile.ts';
import { looksLikePhilipsXml, type PhilipsXml, type PhilipsXmlImage } from './philips/philips-xml.ts';
import type { DetectContext, DetectResult, EncodedTile, ImageRole, MetadataField, Mpp, OutputCheckOptions, Slide, SlideFormat, SlideImage } from './slide-format.ts';

/**
 * Philips TIFF (as OpenSlide 3.4.1 reads it): Software starts with "Philips" and the first
 * ImageDescription is Philips XML (<DataObject ObjectType="DPUfsImport">). Tiled IFDs are the
 * pyramid levels (the XML gives one pixel spacing per level); stripped IFDs described
 * "Label"/"Macro" are the label and macro; the XML may also carry label and macro as base64
 * JPEG, shown here as images of their own. Detection claims every TIFF that says Philips in either
 * place, so a Philips file this driver cannot read is refused, never passed to generic TIFF.
 */
export const philipsTiff: SlideFormat = {
  name: 'philips-tiff',

  detect(ctx: DetectContext): Promise<DetectResult> {
    return detectTiffVendor(ctx, async (tiff) => {
      const first = tiff.ifds[0]!;
      const software = tiff.ascii(first, Tag.Software);
      const desc = tiff.ascii(first, Tag.ImageDescription);
      // A description too large to have been read eagerly is looked at by its first bytes.
      const head = desc ?? (await describeHead(tiff));
      return !!software?.startsWith(PHILIPS_SOFTWARE) || looksLikePhilipsXml(head);
    }, 'no Philips software tag or XML');
  },

  async open(ctx: DetectContext, signal?: AbortSignal): Promise<Slide> {
    const tiff = await tiffFromContext(ctx, signal);
    const first = tiff.ifds[0]!;
    if (!tiff.ascii(first, Tag.Software)?.startsWith(PHILIPS_SOFTWARE)) {
      throw new SlideError('UNSUPPORTED', 'Philips XML in a TIFF whose Software tag does not name Philips is not supported');
    }
    const xml = await loadPhilipsXml(tiff, first, signal);
    if (!tiff.isTiled(first)) throw new SlideError('UNSUPPORTED', 'Philips TIFF whose first image is not tiled is not supported');
    const images: TiffPlanImage[] = [];
    let previous: { width: number; height: number } | undefined;
    for (const ifd of tiff.ifds) {
      throwIfAborted(signal);
      const info = await readImageInfo(tiff, ifd, signal);
      if (!info) continue;
      if (info.tiled) {
        // OpenSlide's own conditions for a pyramid: reduced-resolution flag, decreasing sizes.
        if (previous && (info.newSubfileType & 1) !== 1) throw new SlideError('UNSUPPORTED', `Philips TIFF whose image ${ifd.index} is tiled but not marked reduced-resolution is not supported`);
        if (previous && (info.width > previous.width || info.height > previous.height)) throw new SlideError('UNSUPPORTED', 'Philips TIFF whose levels are not in decreasing size is not supported');
        previous = info;
      }
      images.push({ id: `ifd-${ifd.index}`, role: philipsRole(tiff, ifd.index, info.tiled), info });
    }
    const levels = images.filter((i) => i.role === 'level').length;
    if (levels !== xml.levelSpacings.length) {
      throw new SlideError('UNSUPPORTED', `Philips TIFF with ${levels} levels but pixel spacing for ${xml.levelSpacings.length} is not supported`);
    }
    requireDecodableLevels(images);
    const inner = new TiffSlide({
      format: 'philips-tiff',
      source: ctx.parts[0]!,
      tiff,
      images,
      fields: collectTiffFields(tiff, philipsProfile),
      profile: philipsProfile,
      ...optional(philipsMpp(xml)),
    });
    return new PhilipsSlide(inner, xml);
  },
};

function philipsRole(tiff: TiffFile, index: number, tiled: boolean): ImageRole {
  if (tiled) return 'level';
  const desc = tiff.ascii(tiff.ifds[index]!, Tag.ImageDescription) ?? '';
  if (desc.startsWith(ASSOCIATED_PREFIXES[0])) return 'label';
  // Macro, and any other stripped image (OpenSlide ignores it; unknown content goes by default).
  return 'overview';
}

/** OpenSlide's MPP: philips.DICOM_PIXEL_SPACING (mm) x 1000. */
function philipsMpp(xml: PhilipsXml): Mpp | undefined {
  if (!xml.spacing) return undefined;
  const x = xml.spacing.x * 1000, y = xml.spacing.y * 1000;
  return plausibleMpp(x) && plausibleMpp(y) ? { x, y, source: 'Philips XML pixel spacing' } : undefined;
}

function optional(mpp: Mpp | undefined): { mpp?: Mpp } {
  return mpp ? { mpp } : {};
}

async function describeHead(tiff: TiffFile): Promise<string | undefined> {
  const e = tiff.entry(tiff.ifds[0]!, Tag.ImageDescription);
  if (!e || e.inline) return undefined;
  const head = await tiff.source.read(e.valueOffset, Math.min(e.byteLength, 4096));
  let s = '';
  for (const b of head) s += String.fromCharCode(b);
  return s;
}

/**
 * The TIFF slide plus the label/macro JPEGs embedded in the XML. Such an image and its XML part
 * go together: removing the image removes the part (and keeping it keeps the part), so the
 * request's image list decides and the plan reports both.
 */
class PhilipsSlide implements Slide {
  readonly format = 'philips-tiff' as const;
  readonly name: string;
  readonly parts: ByteSource[];
  readonly images: SlideImage[];
  readonly fields: MetadataField[];
  readonly mpp?: Mpp;
  readonly width: number;
  readonly height: number;
  private readonly embedded = new Map<string, PhilipsXmlImage>();

  constructor(private readonly inner: TiffSlide, xml: PhilipsXml) {
    this.name = inner.name;
    this.parts = inner.parts;
    this.fields = inner.fields;
    if (inner.mpp) this.mpp = inner.mpp;
    this.width = inner.width;
    this.height = inner.height;
    const extra: SlideImage[] = xml.images.map((img, i) => {
      const id = `xml-${img.role}-${i}`;
      this.embedded.set(id, img);
      return { id, role: img.role, width: img.width, height: img.height, tileWidth: img.width, tileHeight: img.height, compression: 'JPEG', part: 0 };
    });
    this.images = [...inner.images, ...extra];
  }

  async readTile(imageId: string, col: number, row: number, signal?: AbortSignal): Promise<EncodedTile> {
    const img = this.embedded.get(imageId);
    if (!img) return this.inner.readTile(imageId, col, row, signal);
    if (col !== 0 || row !== 0) throw new SlideError('BAD_REQUEST', `tile ${col},${row} is outside image "${imageId}"`);
    return { bytes: img.jpeg, codec: 'image/jpeg', width: img.width, height: img.height };
  }

  async plan(request: RedactionRequest, signal?: AbortSignal): Promise<RedactionPlan> {
    const removeFields = new Set(request.removeFields);
    for (const [id, img] of this.embedded) {
      if (request.removeImages.includes(id)) removeFields.add(img.fieldId);
      else removeFields.delete(img.fieldId);
    }
    const plan = await this.inner.plan({ ...request, removeFields: [...removeFields], removeImages: request.removeImages.filter((id) => !this.embedded.has(id)) }, signal);
    for (const [id, img] of this.embedded) if (plan.removedFields.includes(img.fieldId)) plan.removedImages.push({ id, role: img.role });
    return plan;
  }

  verifyAsOutput(opts: OutputCheckOptions): Promise<string[]> {
    return this.inner.verifyAsOutput(opts);
  }
}
