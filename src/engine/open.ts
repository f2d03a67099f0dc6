import type { ByteSource } from './io/byte-source.ts';
import type { DetectContext, Slide, SlideFormat } from './formats/slide-format.ts';
import { formats as defaultFormats } from './formats/registry.ts';
import { SlideError, throwIfAborted, toSlideError } from '../shared/errors.ts';

/**
 * Open one slide (one TIFF/SVS file, or the instances of one DICOM slide) with the first driver
 * that claims it. Errors name the file.
 */
export async function openSlide(parts: ByteSource[], signal?: AbortSignal, formats: SlideFormat[] = defaultFormats): Promise<Slide> {
  const name = parts[0]?.name ?? 'slide';
  if (parts.length === 0) throw new SlideError('BAD_REQUEST', 'no input files');
  const ctx: DetectContext = { parts, cache: new Map() };
  const reasons: string[] = [];
  try {
    for (const format of formats) {
      throwIfAborted(signal);
      const d = await format.detect(ctx);
      if (d.ok) return await format.open(ctx, signal);
      reasons.push(`${format.name}: ${d.reason}`);
    }
  } catch (e) {
    throw toSlideError(e, name);
  }
  // The first reason of a driver that got past "wrong magic" is the useful one for the user.
  throw new SlideError('NOT_RECOGNIZED', `${name}: not a supported whole-slide image`, { detail: reasons.join('; ') });
}
