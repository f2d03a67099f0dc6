import { SlideError, throwIfAborted } from '../../shared/errors.ts';
import type { DetectContext, DetectResult, ImageRole, Slide, SlideFormat } from './slide-format.ts';
import { hasTiffMagic, tiffFromContext } from '../tiff/context.ts';
import { collectTiffFields } from '../tiff/fields.ts';
import { readImageInfo, type TiffImageInfo } from '../tiff/image-info.ts';
import type { TiffPlanImage } from '../tiff/plan.ts';
import { Tag } from '../tiff/tags.ts';
import { mppFromResolution, requireDecodableLevels, TiffSlide } from '../tiff/tiff-slide.ts';
import type { TiffFile } from '../tiff/tifflike.ts';
import { optionalMpp } from './aperio-svs.ts';

/**
 * Generic tiled pyramidal TIFF (OpenSlide's generic-tiff): tried last, claims every TIFF so that a
 * damaged one reports its real problem (CORRUPT/TRUNCATED). Like OpenSlide it needs a tiled first
 * image; tiled IFDs are levels. Stripped IFDs are associated images: a description starting with
 * "label"/"macro" names them; a reduced-resolution (NewSubfileType bit 0) copy of the whole image
 * is a thumbnail; anything else is an overview of unknown content (removed by default).
 */
export const genericTiff: SlideFormat = {
  name: 'generic-tiff',

  async detect(ctx: DetectContext): Promise<DetectResult> {
    return (await hasTiffMagic(ctx)) ? { ok: true } : { ok: false, reason: 'not a TIFF' };
  },

  async open(ctx: DetectContext, signal?: AbortSignal): Promise<Slide> {
    const tiff = await tiffFromContext(ctx, signal);
    const first = tiff.ifds[0]!;
    if (!tiff.isTiled(first)) throw new SlideError('NOT_RECOGNIZED', 'a TIFF image, but not a tiled whole-slide image');
    const infos: TiffImageInfo[] = [];
    for (const ifd of tiff.ifds) {
      throwIfAborted(signal);
      const info = await readImageInfo(tiff, ifd, signal);
      if (info) infos.push(info);
    }
    const base = infos[0]!;
    requireDecodableLevels(infos.map((info) => ({ role: info.tiled ? 'level' : 'other', info })));
    const images: TiffPlanImage[] = infos.map((info) => ({ id: `ifd-${info.ifd.index}`, role: genericRole(tiff, info, base), info }));
    return new TiffSlide({
      format: 'generic-tiff',
      source: ctx.parts[0]!,
      tiff,
      images,
      fields: collectTiffFields(tiff),
      ...optionalMpp(mppFromResolution(tiff, first)),
    });
  },
};

function genericRole(tiff: TiffFile, info: TiffImageInfo, base: TiffImageInfo): ImageRole {
  const word = (tiff.ascii(info.ifd, Tag.ImageDescription) ?? '').trim().split(/\s+/)[0]?.toLowerCase();
  if (word === 'label') return 'label';
  if (word === 'macro') return 'overview';
  if (info.tiled) return 'level';
  const sameAspect = Math.abs(info.width / info.height - base.width / base.height) < 0.02 * (base.width / base.height);
  if ((info.newSubfileType & 1) === 1 && sameAspect) return 'thumbnail';
  return 'overview';
}
