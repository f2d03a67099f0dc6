import type { DetectContext, DetectResult, Slide, SlideFormat } from './slide-format.ts';
import { hasDicmPrefix } from '../dicom/part10.ts';
import { openDicomSlide } from '../dicom/dicom-slide.ts';

/**
 * DICOM VL Whole Slide Microscopy: one part per instance (levels, thumbnail, label, overview).
 * detect() only checks the Part 10 prefix, so that DICOM which is not a whole-slide image (or is
 * big-endian) gets a clear UNSUPPORTED from open() instead of "not recognised".
 */
export const dicomWsiFormat: SlideFormat = {
  name: 'dicom-wsi',
  async detect(ctx: DetectContext): Promise<DetectResult> {
    for (const part of ctx.parts) {
      if (!(await hasDicmPrefix(part))) return { ok: false, reason: `${part.name} has no DICOM Part 10 prefix` };
    }
    return { ok: true };
  },
  async open(ctx: DetectContext, signal?: AbortSignal): Promise<Slide> {
    return openDicomSlide(ctx.parts, signal);
  },
};
