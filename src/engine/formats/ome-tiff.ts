import { SlideError, throwIfAborted } from '../../shared/errors.ts';
import type { DetectContext, DetectResult, ImageRole, Mpp, Slide, SlideFormat } from './slide-format.ts';
import { detectTiffVendor, tiffFromContext } from '../tiff/context.ts';
import { collectTiffFields } from '../tiff/fields.ts';
import { readImageInfo, type TiffImageInfo } from '../tiff/image-info.ts';
import type { TiffPlanImage } from '../tiff/plan.ts';
import { Tag } from '../tiff/tags.ts';
import { mppFromResolution, plausibleMpp, requireDecodableLevels, TiffSlide } from '../tiff/tiff-slide.ts';
import type { Ifd, TiffFile } from '../tiff/tifflike.ts';
import { associatedKind, looksLikeOmeXml, parseOmeXml, type OmeImage } from './ome/ome-xml.ts';
import { omeProfile } from './ome/ome-profile.ts';

/**
 * OME-TIFF (OME-XML in the first ImageDescription) with the modern pyramid layout
 * (bioformats2raw/raw2ometiff, QuPath export): one main-chain IFD per series and plane, the
 * reduced levels of a series in SubIFDs (tag 330) of its full-resolution IFD. Supported: ONE
 * slide series with one plane (brightfield RGB), its SubIFD pyramid, and associated series named
 * label/macro (removed by default, with their description in the XML) or thumbnail. Anything
 * else — several slide series, Z/C/T stacks, pixels outside the TIFF, companion files, SubIFDs
 * that are not a pyramid — is refused with a reason, never handed to the generic TIFF driver.
 * OpenSlide 3.4.1 reads such files as generic TIFF (main chain only), so its oracle sees level 0.
 */
export const omeTiff: SlideFormat = {
  name: 'ome-tiff',

  detect(ctx: DetectContext): Promise<DetectResult> {
    return detectTiffVendor(ctx, (tiff) => looksLikeOmeXml(tiff.ascii(tiff.ifds[0]!, Tag.ImageDescription)), 'no OME-XML description');
  },

  async open(ctx: DetectContext, signal?: AbortSignal): Promise<Slide> {
    const tiff = await tiffFromContext(ctx, signal);
    const xml = parseOmeXml(tiff.ascii(tiff.ifds[0]!, Tag.ImageDescription) ?? '');
    const slides = xml.images.filter((i) => associatedKind(i.name) === undefined);
    if (slides.length !== 1) {
      throw new SlideError('UNSUPPORTED', slides.length === 0 ? 'OME-TIFF without a slide image (only label/macro series)' : `OME-TIFF with ${slides.length} image series is not supported yet`);
    }
    const used = new Set<number>();
    for (const img of xml.images) {
      if (img.planes !== 1) throw new SlideError('UNSUPPORTED', 'OME-TIFF with several Z, channel or time planes is not supported yet');
      if (img.ifd >= tiff.ifds.length) throw new SlideError('CORRUPT', `the OME-XML refers to image directory ${img.ifd}, which the file does not have`);
      if (used.has(img.ifd)) throw new SlideError('CORRUPT', `the OME-XML puts two series in image directory ${img.ifd}`);
      used.add(img.ifd);
    }
    const slide = slides[0]!;
    if (slide.ifd !== 0) throw new SlideError('UNSUPPORTED', 'OME-TIFF whose first image directory is not the slide is not supported yet');
    const first = tiff.ifds[0]!;
    if (!tiff.isTiled(first)) throw new SlideError('UNSUPPORTED', 'OME-TIFF whose full-resolution image is not tiled');
    const info0 = (await readImageInfo(tiff, first, signal))!;
    if (info0.width !== slide.sizeX || info0.height !== slide.sizeY) {
      throw new SlideError('CORRUPT', 'the OME-XML and the first image directory disagree on the slide size');
    }
    const images: TiffPlanImage[] = [{ id: 'ifd-0', role: 'level', info: info0 }];
    const subLevels = await pyramidLevels(tiff, first, info0, signal);
    subLevels.forEach((info, k) => images.push({ id: `ifd-0-sub-${k + 1}`, role: 'level', info }));

    // Other series and directories: associated images; an unreferenced directory is of unknown content.
    const series = new Map<number, OmeImage>(xml.images.map((i) => [i.ifd, i]));
    const others: { info: TiffImageInfo; role: ImageRole; ome?: OmeImage }[] = [];
    for (const ifd of tiff.ifds.slice(1)) {
      throwIfAborted(signal);
      const info = await readImageInfo(tiff, ifd, signal);
      if (!info) continue;
      const ome = series.get(ifd.index);
      const kind = ome ? associatedKind(ome.name) : undefined;
      others.push({ info, role: kind === 'label' ? 'label' : kind === 'thumbnail' ? 'thumbnail' : 'overview', ...(ome ? { ome } : {}) });
    }
    // TiffData IFD numbers are positions in the main chain: a kept thumbnail behind a removed label
    // would be renumbered and its description would point at the wrong directory. Such a thumbnail
    // is removed by default too (its XML stays consistent only if its position does not change).
    let keptBefore = 1;
    for (const o of others) {
      if (o.role !== 'thumbnail') continue;
      if (!o.ome || o.ome.ifd !== keptBefore) o.role = 'overview';
      else keptBefore++;
    }
    for (const o of others) images.push({ id: `ifd-${o.info.ifd.index}`, role: o.role, info: o.info });
    requireDecodableLevels(images);

    const profile = omeProfile(xml, new Set(subLevels.length > 0 ? [first] : []));
    return new TiffSlide({
      format: 'ome-tiff',
      source: ctx.parts[0]!,
      tiff,
      images,
      fields: collectTiffFields(tiff, profile),
      profile,
      ...optional(omeMpp(slide) ?? mppFromResolution(tiff, first)),
    });
  },
};

/**
 * The SubIFDs of the full-resolution directory, as pyramid levels: each a tiled image smaller
 * than the one before, without directories of its own. Anything else is refused (a SubIFD kept
 * whole could carry what the review never showed).
 */
async function pyramidLevels(tiff: TiffFile, parent: Ifd, base: TiffImageInfo, signal?: AbortSignal): Promise<TiffImageInfo[]> {
  const out: TiffImageInfo[] = [];
  let prev = base;
  for (const c of parent.children) {
    if (c.tag !== Tag.SubIFDs) continue;
    throwIfAborted(signal);
    const info = await readImageInfo(tiff, c.ifd, signal);
    if (!info || !info.tiled) throw new SlideError('UNSUPPORTED', 'OME-TIFF with a SubIFD that is not a tiled pyramid level is not supported yet');
    if (c.ifd.children.length > 0) throw new SlideError('UNSUPPORTED', 'OME-TIFF with nested SubIFDs is not supported yet');
    if (!(info.width < prev.width && info.height <= prev.height) && !(info.width <= prev.width && info.height < prev.height)) {
      throw new SlideError('CORRUPT', 'a SubIFD pyramid level is not smaller than the level before it');
    }
    if (info.samplesPerPixel !== base.samplesPerPixel) throw new SlideError('CORRUPT', 'a SubIFD pyramid level has a different number of samples per pixel');
    out.push(info);
    prev = info;
  }
  return out;
}

function omeMpp(img: OmeImage): Mpp | undefined {
  if (!img.mpp || !plausibleMpp(img.mpp.x) || !plausibleMpp(img.mpp.y)) return undefined;
  return { x: img.mpp.x, y: img.mpp.y, source: 'OME-XML PhysicalSizeX/Y' };
}

function optional(mpp: Mpp | undefined): { mpp?: Mpp } {
  return mpp ? { mpp } : {};
}
