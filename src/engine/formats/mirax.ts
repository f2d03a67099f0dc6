import type { DetectContext, DetectResult, Slide, SlideFormat } from './slide-format.ts';
import { isMrxs, isSlidedat } from '../mirax/parts.ts';
import { openMiraxSlide } from '../mirax/slide.ts';

/**
 * 3DHistech MIRAX: 'NAME.mrxs' plus a folder 'NAME/' holding Slidedat.ini, Index.dat and
 * Data0000.dat… — one slide made of several parts, like a DICOM series.
 *
 * PART NAMING RULE: parts are told apart by NAME only, never by content or order. A source may be
 * named with its folder ('NAME.mrxs', 'NAME/Slidedat.ini', 'NAME/Data0003.dat', or any longer
 * relative path) or bare ('Slidedat.ini'); everything up to the last '/' or '\' is ignored and
 * names compare case-insensitively. The .mrxs is the one part ending in '.mrxs'; Slidedat.ini is
 * 'Slidedat.ini'; Index.dat and the Data files are the names Slidedat.ini gives (INDEXFILE,
 * [DATAFILE] FILE_n). Two parts with the same name are refused; parts the slide does not name are
 * ignored (and not copied). Data files that are missing make the slide `incomplete` (plan refuses
 * unless the request sets `options.allowIncomplete`).
 *
 * detect() claims any set of parts with a .mrxs or a Slidedat.ini (a .mrxs without its folder is
 * then refused by open() with a clear reason instead of "not recognised"). The de-identified
 * output is a new '<name>.mrxs' (empty) + '<name>/' folder with the same layout (mirax/plan.ts).
 */
export const mirax: SlideFormat = {
  name: 'mirax',
  async detect(ctx: DetectContext): Promise<DetectResult> {
    if (ctx.parts.some(isMrxs) || ctx.parts.some(isSlidedat)) return { ok: true };
    return { ok: false, reason: 'no .mrxs file or Slidedat.ini among the files' };
  },
  async open(ctx: DetectContext, signal?: AbortSignal): Promise<Slide> {
    return openMiraxSlide(ctx.parts, signal);
  },
};
