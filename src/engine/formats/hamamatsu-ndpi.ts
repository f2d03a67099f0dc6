import { SlideError, throwIfAborted } from '../../shared/errors.ts';
import type { DetectContext, DetectResult, EncodedTile, ImageRole, Mpp, Slide, SlideFormat } from './slide-format.ts';
import { detectTiffVendor, tiffFromContext } from '../tiff/context.ts';
import { collectTiffFields } from '../tiff/fields.ts';
import { readImageInfo } from '../tiff/image-info.ts';
import { openNdpiLevel, readNdpiTile, type NdpiLevel } from '../tiff/ndpi/ndpi-level.ts';
import { ndpiProfile, NdpiTag } from '../tiff/ndpi/ndpi-profile.ts';
import type { TiffPlanImage } from '../tiff/plan.ts';
import { Tag } from '../tiff/tags.ts';
import { plausibleMpp, TiffSlide, type TiffSlideInit } from '../tiff/tiff-slide.ts';
import type { TiffFile } from '../tiff/tifflike.ts';
import { optionalMpp } from './aperio-svs.ts';

/**
 * Hamamatsu NDPI (as OpenSlide reads it): classic TIFF in NDPI's 64-bit mode (tifflike.ts), one
 * directory per image, each ONE JPEG strip. SourceLens (65421) says what an image is: > 0 a
 * pyramid level (focal plane 0), −1 the macro photograph (which shows the slide label), −2 the
 * map; both are removed by default. Levels are read as tiles cut from their restart intervals
 * (tiff/ndpi/ndpi-level.ts). What this driver does not understand is refused: several strips per
 * image, several focal planes, levels out of order, a level that is not JPEG.
 */
export const hamamatsuNdpi: SlideFormat = {
  name: 'hamamatsu-ndpi',

  detect(ctx: DetectContext): Promise<DetectResult> {
    return detectTiffVendor(ctx, (tiff) => tiff.ndpi, 'no NDPI format tag');
  },

  async open(ctx: DetectContext, signal?: AbortSignal): Promise<Slide> {
    const tiff = await tiffFromContext(ctx, signal);
    if (!tiff.ndpi) throw new SlideError('NOT_RECOGNIZED', 'not an NDPI file');
    const images: TiffPlanImage[] = [];
    const levels = new Map<string, NdpiLevel>();
    let previousWidth = Infinity;
    for (const ifd of tiff.ifds) {
      throwIfAborted(signal);
      const where = `image directory ${ifd.index}`;
      const info = await readImageInfo(tiff, ifd, signal);
      if (!info) throw new SlideError('CORRUPT', `${where} has no image data`);
      if (info.tiled || info.offsets.count !== 1) throw new SlideError('UNSUPPORTED', `${where}: NDPI images stored in several strips or tiles are not supported yet`);
      const lens = tiff.number(ifd, NdpiTag.SourceLens);
      if (lens === undefined || Number.isNaN(lens)) throw new SlideError('CORRUPT', `${where} has no NDPI SourceLens`);
      const id = `ifd-${ifd.index}`;
      if (lens > 0) {
        const plane = tiff.number(ifd, NdpiTag.FocalPlane);
        if (plane === undefined) throw new SlideError('CORRUPT', `${where} has no NDPI focal plane`);
        if (plane !== 0) throw new SlideError('UNSUPPORTED', 'NDPI with several focal planes (a z-stack) is not supported yet');
        if (info.compression !== 7) throw new SlideError('UNSUPPORTED', `${where}: an NDPI level that is not JPEG is not supported`);
        // OpenSlide refuses levels that do not shrink in file order; so do we.
        if (!(info.width < previousWidth)) throw new SlideError('CORRUPT', 'the NDPI levels are in an unexpected order');
        previousWidth = info.width;
        levels.set(id, await openNdpiLevel(tiff, info, where, signal));
      }
      images.push({ id, role: ndpiRole(lens), info });
    }
    if (levels.size === 0) throw new SlideError('CORRUPT', 'the NDPI file has no pyramid levels');
    return new NdpiSlide({
      format: 'hamamatsu-ndpi',
      source: ctx.parts[0]!,
      tiff,
      images,
      fields: collectTiffFields(tiff, ndpiProfile),
      profile: ndpiProfile,
      ...optionalMpp(ndpiMpp(tiff)),
    }, levels);
  },
};

/** −1 is the macro (a photograph of the whole slide, label included), −2 the map; both overviews. */
function ndpiRole(lens: number): ImageRole {
  return lens > 0 ? 'level' : 'overview';
}

/** As OpenSlide: 10000 / X/YResolution when ResolutionUnit is centimetre (inch is the default: no MPP). */
function ndpiMpp(tiff: TiffFile): Mpp | undefined {
  const ifd = tiff.ifds[0]!;
  if ((tiff.number(ifd, Tag.ResolutionUnit) ?? 2) !== 3) return undefined;
  const x = 10000 / (tiff.number(ifd, Tag.XResolution) ?? NaN);
  const y = 10000 / (tiff.number(ifd, Tag.YResolution) ?? NaN);
  return plausibleMpp(x) && plausibleMpp(y) ? { x, y, source: 'NDPI resolution (cm)' } : undefined;
}

/** A TiffSlide whose levels are tiled by restart interval instead of by strip. */
class NdpiSlide extends TiffSlide {
  constructor(init: TiffSlideInit, private readonly levelGeometry: ReadonlyMap<string, NdpiLevel>) {
    super(init);
    for (const img of this.images) {
      const l = levelGeometry.get(img.id);
      if (!l) continue;
      img.tileWidth = l.tileWidth;
      img.tileHeight = l.tileHeight;
    }
  }

  override readTile(imageId: string, col: number, row: number, signal?: AbortSignal): Promise<EncodedTile> {
    const l = this.levelGeometry.get(imageId);
    return l ? readNdpiTile(this.tiff, l, col, row, signal) : super.readTile(imageId, col, row, signal);
  }
}
