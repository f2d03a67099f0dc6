import { SlideError, throwIfAborted } from '../../shared/errors.ts';
import type { ImageRole, Mpp, Slide, SlideFormat, DetectContext, DetectResult } from './slide-format.ts';
import { aperioSubtype, isAperioDescription, parseAperioDescription } from '../tiff/aperio-description.ts';
import { detectTiffVendor, tiffFromContext } from '../tiff/context.ts';
import { aperioProfile } from '../tiff/aperio-profile.ts';
import { collectTiffFields } from '../tiff/fields.ts';
import { readImageInfo } from '../tiff/image-info.ts';
import type { TiffPlanImage } from '../tiff/plan.ts';
import { Tag } from '../tiff/tags.ts';
import { mppFromResolution, plausibleMpp, requireDecodableLevels, TiffSlide } from '../tiff/tiff-slide.ts';
import type { TiffFile } from '../tiff/tifflike.ts';

/**
 * Aperio SVS (as OpenSlide reads it): a TIFF whose first ImageDescription starts with "Aperio".
 * Tiled IFDs are pyramid levels; the stripped IFD right after level 0 is the thumbnail; label and
 * macro are recognised by NewSubfileType (1 = label, 9 = macro), then by the description's second
 * line. Any other stripped image is treated as an overview (removed by default: unknown content).
 */
export const aperioSvs: SlideFormat = {
  name: 'aperio-svs',

  detect(ctx: DetectContext): Promise<DetectResult> {
    return detectTiffVendor(ctx, (tiff) => isAperioDescription(tiff.ascii(tiff.ifds[0]!, Tag.ImageDescription)), 'no Aperio description');
  },

  async open(ctx: DetectContext, signal?: AbortSignal): Promise<Slide> {
    const tiff = await tiffFromContext(ctx, signal);
    if (!tiff.isTiled(tiff.ifds[0]!)) throw new SlideError('UNSUPPORTED', 'Aperio file whose full-resolution image is not tiled');
    const images: TiffPlanImage[] = [];
    for (const ifd of tiff.ifds) {
      throwIfAborted(signal);
      const info = await readImageInfo(tiff, ifd, signal);
      if (!info) continue;
      const role = aperioRole(tiff, ifd.index, info.tiled, info.newSubfileType);
      images.push({ id: `ifd-${ifd.index}`, role, info });
    }
    requireDecodableLevels(images);
    const slide = new TiffSlide({
      format: 'aperio-svs',
      source: ctx.parts[0]!,
      tiff,
      images,
      fields: collectTiffFields(tiff, aperioProfile),
      profile: aperioProfile,
      ...optionalMpp(aperioMpp(tiff)),
    });
    return slide;
  },
};

function aperioRole(tiff: TiffFile, index: number, tiled: boolean, nst: number): ImageRole {
  if (tiled) return 'level';
  if (nst === 9) return 'overview';
  if (nst === 1) return 'label';
  const sub = aperioSubtype(tiff.ascii(tiff.ifds[index]!, Tag.ImageDescription) ?? '');
  if (sub === 'label') return 'label';
  if (sub === 'macro') return 'overview';
  return index === 1 ? 'thumbnail' : 'overview';
}

function aperioMpp(tiff: TiffFile): Mpp | undefined {
  const desc = tiff.ascii(tiff.ifds[0]!, Tag.ImageDescription) ?? '';
  const pair = parseAperioDescription(desc).pairs.find((p) => p.key.toLowerCase() === 'mpp');
  const v = pair ? Number(pair.value) : NaN;
  if (plausibleMpp(v)) return { x: v, y: v, source: 'Aperio MPP' };
  return mppFromResolution(tiff, tiff.ifds[0]!);
}

export function optionalMpp(mpp: Mpp | undefined): { mpp?: Mpp } {
  return mpp ? { mpp } : {};
}
