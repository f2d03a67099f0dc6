import { SlideError, throwIfAborted } from '../../shared/errors.ts';
import type { RedactionPlan, RedactionRequest } from '../redact/plan-types.ts';
import type { DetectContext, DetectResult, ImageRole, Mpp, Slide, SlideFormat } from './slide-format.ts';
import { detectTiffVendor, tiffFromContext } from '../tiff/context.ts';
import { collectTiffFields } from '../tiff/fields.ts';
import { readImageInfo } from '../tiff/image-info.ts';
import type { TiffPlanImage } from '../tiff/plan.ts';
import { Tag } from '../tiff/tags.ts';
import { plausibleMpp, requireDecodableLevels, TiffSlide, type TiffSlideInit } from '../tiff/tiff-slide.ts';
import { latin1, trimNul, type TiffFile } from '../tiff/tifflike.ts';
import { optionalMpp } from './aperio-svs.ts';
import { checkEncodeInfo } from './ventana/encode-info.ts';
import { addLeadDirectory, isLeadDirectory } from './ventana/lead-directory.ts';
import { LABEL_DESCRIPTIONS, parseLevelDescription, PROBABILITY_DESCRIPTIONS, THUMBNAIL_DESCRIPTION, ventanaProfile, ventanaXmp } from './ventana/profile.ts';
import { looksLikeVentanaXmp } from './ventana/xmp.ts';

/** Level 0's EncodeInfo lists every tile joint: tens of MB at most for the largest slides. */
const MAX_XMP_BYTES = 64 * 1024 * 1024;

/**
 * Ventana / Roche BIF (iScan HT/Coreo, DP 200/600), as OpenSlide 3.4.1 reads it: a (Big)TIFF
 * whose first directory carries XMP with an iScan element. Directories are recognised by their
 * ImageDescription: "level=N mag=M quality=Q" (tiled pyramid levels, numbered from 0 with
 * falling magnification), "Label Image"/"Label_Image" (a photograph of the slide label, often
 * the first directory), "Thumbnail", and "Probability Image"/"Probability_Image" — the
 * prescan's tissue map of the WHOLE glass slide, label area included, at label resolution: it
 * can show the label's outline and print, so it is an overview (removed by default). Level 0's
 * XMP (EncodeInfo) places tiles (AOIs, joints) and must be present and consistent. Anything not
 * understood — another tiled image, Z-stacks, a level description of another shape — is refused.
 */
export const ventanaBif: SlideFormat = {
  name: 'ventana-bif',

  detect(ctx: DetectContext): Promise<DetectResult> {
    // Claim broadly (any directory with Ventana XMP): open() refuses what it does not understand,
    // so a Ventana file is never read by the generic driver with its XMP intact.
    return detectTiffVendor(ctx, (tiff) => tiff.ifds.some((ifd) => {
      const e = tiff.entry(ifd, Tag.XMP);
      return !!e?.value && looksLikeVentanaXmp(latin1(trimNul(e.value)));
    }), 'no Ventana XMP');
  },

  async open(ctx: DetectContext, signal?: AbortSignal): Promise<Slide> {
    const tiff = await tiffFromContext(ctx, signal);
    await loadXmp(tiff, signal);
    const first = tiff.ifds[0]!;
    const iscanXmp = ventanaXmp(tiff, first);
    if (iscanXmp?.kind !== 'iscan') throw new SlideError('UNSUPPORTED', 'Ventana BIF whose first image has no iScan scanner metadata is not supported yet');
    const zLayers = Number(attrOf(iscanXmp.iscan, 'Z-layers') ?? '1');
    if (zLayers !== 1) throw new SlideError('UNSUPPORTED', 'Ventana BIF with several focal planes (Z-stack) is not supported yet');

    const images: TiffPlanImage[] = [];
    let nextLevel = 0;
    let previousMag = Infinity;
    for (const ifd of tiff.ifds) {
      throwIfAborted(signal);
      const info = await readImageInfo(tiff, ifd, signal);
      if (!info) continue;
      if (isLeadDirectory(tiff, ifd)) continue;
      const desc = tiff.ascii(ifd, Tag.ImageDescription);
      const level = desc === undefined ? undefined : parseLevelDescription(desc);
      let role: ImageRole;
      if (level) {
        if (!info.tiled) throw new SlideError('UNSUPPORTED', `Ventana level ${level.level} is not tiled`);
        if (level.level !== nextLevel++ || !(level.magnification < previousMag) || !(level.magnification > 0)) {
          throw new SlideError('UNSUPPORTED', 'Ventana levels are out of order');
        }
        previousMag = level.magnification;
        if ((tiff.number(ifd, Tag.ImageDepth) ?? 1) !== 1) throw new SlideError('UNSUPPORTED', 'Ventana BIF with several focal planes (Z-stack) is not supported yet');
        role = 'level';
      } else if (desc?.includes('level=')) {
        throw new SlideError('UNSUPPORTED', 'a Ventana level description has an unexpected form');
      } else if (info.tiled) {
        throw new SlideError('UNSUPPORTED', 'Ventana BIF with a tiled image that is not a pyramid level is not supported yet');
      } else if (desc !== undefined && LABEL_DESCRIPTIONS.has(desc)) role = 'label';
      else if (desc === THUMBNAIL_DESCRIPTION) role = 'thumbnail';
      // The probability map shows the whole glass slide (see above): an overview, removed by default.
      else if (desc !== undefined && PROBABILITY_DESCRIPTIONS.has(desc)) role = 'overview';
      else role = 'overview';
      images.push({ id: `ifd-${ifd.index}`, role, info });
    }
    const levels = images.filter((i) => i.role === 'level');
    if (levels.length === 0) throw new SlideError('UNSUPPORTED', 'Ventana BIF without pyramid levels');
    const base = levels[0]!.info;
    if (levels.some((l) => l.info.tileWidth !== base.tileWidth || l.info.tileHeight !== base.tileHeight)) {
      throw new SlideError('UNSUPPORTED', 'Ventana levels with different tile sizes are not supported');
    }
    requireDecodableLevels(images);
    const encode = ventanaXmp(tiff, base.ifd);
    if (!encode || encode.kind !== 'encode') throw new SlideError('UNSUPPORTED', 'Ventana BIF without tile placement information (EncodeInfo) is not supported yet');
    checkEncodeInfo(encode.doc, base.tileWidth, base.tileHeight);

    const init: TiffSlideInit = {
      format: 'ventana-bif',
      source: ctx.parts[0]!,
      tiff,
      images,
      fields: collectTiffFields(tiff, ventanaProfile),
      profile: ventanaProfile,
      ...optionalMpp(scanResMpp(attrOf(iscanXmp.iscan, 'ScanRes'))),
    };
    return new BifSlide(init);
  },
};

/** A TiffSlide whose plan keeps the iScan XMP at the start of the output (lead-directory.ts). */
class BifSlide extends TiffSlide {
  private readonly kept: TiffPlanImage[];
  constructor(init: TiffSlideInit) {
    super(init);
    this.kept = init.images;
  }

  override async plan(request: RedactionRequest, signal?: AbortSignal): Promise<RedactionPlan> {
    const plan = await super.plan(request, signal);
    const removed = new Set(request.removeImages);
    const first = this.kept.filter((i) => !removed.has(i.id)).map((i) => i.info.ifd).sort((a, b) => a.index - b.index)[0]!;
    return addLeadDirectory(plan, this.tiff, first, request);
  }
}

/** XMP values bigger than the parser reads eagerly (level 0's EncodeInfo) are read now. */
async function loadXmp(tiff: TiffFile, signal?: AbortSignal): Promise<void> {
  for (const ifd of tiff.ifds) {
    const e = tiff.entry(ifd, Tag.XMP);
    if (!e || e.value) continue;
    if (e.byteLength > MAX_XMP_BYTES) throw new SlideError('UNSUPPORTED', 'Ventana XMP metadata is too large');
    e.value = await tiff.bytes(e, signal);
  }
}

function attrOf(e: { attributes: { name: string; value: string }[] } | undefined, name: string): string | undefined {
  return e?.attributes.find((a) => a.name === name)?.value;
}

/** OpenSlide: openslide.mpp-x/y = ventana.ScanRes (microns per pixel of level 0). */
function scanResMpp(v: string | undefined): Mpp | undefined {
  const n = v === undefined || v.trim() === '' ? NaN : Number(v);
  return plausibleMpp(n) ? { x: n, y: n, source: 'Ventana ScanRes' } : undefined;
}
