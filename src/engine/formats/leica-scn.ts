import { SlideError, throwIfAborted } from '../../shared/errors.ts';
import type { RedactionPlan, RedactionRequest } from '../redact/plan-types.ts';
import { detectTiffVendor, tiffFromContext } from '../tiff/context.ts';
import { collectTiffFields } from '../tiff/fields.ts';
import { readImageInfo } from '../tiff/image-info.ts';
import type { TiffPlanImage } from '../tiff/plan.ts';
import { Tag } from '../tiff/tags.ts';
import { plausibleMpp, requireDecodableLevels, TiffSlide, type TiffSlideInit } from '../tiff/tiff-slide.ts';
import type { TiffFile } from '../tiff/tifflike.ts';
import type { TiffVendorProfile } from '../tiff/vendor-profile.ts';
import { parseScnXml, rebuildScnXml, scnStructuredText, type ScnModel } from './leica/scn-xml.ts';
import { placeScnXml } from './leica/scn-plan.ts';
import type { DetectContext, DetectResult, Mpp, Slide, SlideFormat } from './slide-format.ts';

/** Any mention of Leica's SCN namespace claims the file: it is never handed to generic TIFF. */
const LEICA_MARK = 'leica-microsystems.com/scn';

/**
 * Leica SCN (as OpenSlide 3.4.1 reads it): a BigTIFF whose first ImageDescription is Leica's XML
 * (leica/scn-xml.ts). The one main image's dimensions are the pyramid levels; the macro image
 * (view = whole collection) is an overview, removed by default together with its XML element.
 * Refused, with the reason: several collections, several main images (regions: OpenSlide 3.4.1
 * can only open those with their macro), fluorescence, focal planes, directories the XML names
 * that the file lacks.
 */
export const leicaScn: SlideFormat = {
  name: 'leica-scn',

  detect(ctx: DetectContext): Promise<DetectResult> {
    return detectTiffVendor(ctx, (tiff) => !!tiff.ascii(tiff.ifds[0]!, Tag.ImageDescription)?.includes(LEICA_MARK), 'no Leica XML');
  },

  async open(ctx: DetectContext, signal?: AbortSignal): Promise<Slide> {
    const tiff = await tiffFromContext(ctx, signal);
    const model = parseScnXml(tiff.ascii(tiff.ifds[0]!, Tag.ImageDescription) ?? '');
    const main = model.images.filter((i) => !i.isMacro);
    const macros = model.images.filter((i) => i.isMacro);
    if (main.length !== 1) throw new SlideError('UNSUPPORTED', `Leica SCN with ${main.length} main images (scan regions) is not supported yet`);
    if (main[0]!.illumination !== 'brightfield') throw new SlideError('UNSUPPORTED', 'Leica SCN whose main image is not brightfield (fluorescence) is not supported yet');
    if (macros.length > 1) throw new SlideError('UNSUPPORTED', `Leica SCN with ${macros.length} macro images is not supported yet`);

    const roleOf = new Map<number, 'level' | 'overview'>();
    for (const img of model.images) {
      for (const d of img.dimensions) {
        if (d.ifd >= tiff.ifds.length) throw new SlideError('CORRUPT', `the Leica XML names image directory ${d.ifd}, which the file does not have`);
        if (roleOf.has(d.ifd)) throw new SlideError('CORRUPT', `the Leica XML names image directory ${d.ifd} twice`);
        roleOf.set(d.ifd, img.isMacro ? 'overview' : 'level');
      }
    }
    const images: TiffPlanImage[] = [];
    for (const ifd of tiff.ifds) {
      throwIfAborted(signal);
      const info = await readImageInfo(tiff, ifd, signal);
      const dim = model.images.flatMap((i) => i.dimensions).find((d) => d.ifd === ifd.index);
      if (dim && (!info || info.width !== dim.width || info.height !== dim.height)) {
        throw new SlideError('CORRUPT', `image directory ${ifd.index} does not match its size in the Leica XML`);
      }
      if (!info) continue;
      const role = roleOf.get(ifd.index) ?? 'overview'; // not described by the XML: unknown content
      if (role === 'level' && !info.tiled) throw new SlideError('UNSUPPORTED', 'Leica SCN whose pyramid levels are not tiled is not supported');
      images.push({ id: `ifd-${ifd.index}`, role, info });
    }
    requireDecodableLevels(images);
    const profile = scnProfile(tiff, model);
    return new LeicaScnSlide({
      format: 'leica-scn',
      source: ctx.parts[0]!,
      tiff,
      images,
      fields: collectTiffFields(tiff, profile),
      profile,
      ...mppOf(model),
    }, model, images);
  },
};

/** The XML is reviewed as its parts in the first directory only (the one OpenSlide reads). */
function scnProfile(tiff: TiffFile, model: ScnModel): TiffVendorProfile {
  const text = scnStructuredText(model);
  return {
    name: 'scn',
    structuredText(t, ifd, e) {
      return t === tiff && ifd === tiff.ifds[0] && e.tag === Tag.ImageDescription ? text : undefined;
    },
  };
}

/** µm per pixel of level 0: the main image's view (nm) over its largest dimension (pixels). */
function mppOf(model: ScnModel): { mpp?: Mpp } {
  const main = model.images.find((i) => !i.isMacro)!;
  const l0 = [...main.dimensions].sort((a, b) => b.width - a.width)[0]!;
  const x = main.view.width / l0.width / 1000;
  const y = main.view.height / l0.height / 1000;
  return plausibleMpp(x) && plausibleMpp(y) ? { mpp: { x, y, source: 'Leica XML (view size / level 0 size)' } } : {};
}

class LeicaScnSlide extends TiffSlide {
  constructor(init: TiffSlideInit, private readonly model: ScnModel, private readonly scnImages: TiffPlanImage[]) {
    super(init);
  }

  /**
   * The generic plan, then the XML placed where OpenSlide looks for it (scn-plan.ts): removed
   * parts cut out, a removed macro's image element cut out, directory numbers renumbered to the
   * output's chain.
   */
  override async plan(request: RedactionRequest, signal?: AbortSignal): Promise<RedactionPlan> {
    const base = await super.plan(request, signal);
    const removed = new Set(request.removeImages);
    const kept = this.tiff.ifds.filter((ifd) => this.scnImages.some((i) => i.info.ifd === ifd && !removed.has(i.id)));
    const renumber = new Map(kept.map((ifd, n) => [ifd.index, n]));
    const droppedImages = this.model.images.filter((img) => img.dimensions.some((d) => !renumber.has(d.ifd)));
    for (const img of droppedImages) {
      if (img.dimensions.some((d) => renumber.has(d.ifd))) throw new SlideError('BAD_REQUEST', 'the macro image can only be removed with all its sizes');
    }
    const dropped = new Set<number>();
    this.model.parts.forEach((p, i) => {
      if (request.removeFields.includes(p.id)) dropped.add(i);
    });
    const xml = rebuildScnXml(this.model, dropped, droppedImages, renumber);
    return placeScnXml(this.tiff, base, kept[0]!, xml);
  }
}
