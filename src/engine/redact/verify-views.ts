import { SlideError, toSlideError } from '../../shared/errors.ts';
import type { ByteSource } from '../io/byte-source.ts';
import type { OutputCheckOptions, Slide } from '../formats/slide-format.ts';
import { openSlide } from '../open.ts';
import { PlanOutputView, type OutputView } from './output-view.ts';
import type { RedactionPlan } from './plan-types.ts';
import { verifyRedaction } from './verify.ts';
import { verifyOutputAlone } from './verify-output.ts';

export interface VerifyViewsOptions {
  signal?: AbortSignal;
  /**
   * The byte half of the output-alone check (every byte outside the structure zero, codestream
   * text blank) reads the whole output. 'while-reading' (default): each view's CheckedReader runs
   * it on every chunk before it leaves, so verification here reads metadata only and the first
   * byte can be sent at once. 'now': read everything here, as redactSlide does on a written copy.
   */
  byteScan?: 'now' | 'while-reading';
}

/** Identifying fields the plan keeps (the user chose to): ids only. */
export function keptFieldsOf(slide: Slide, plan: RedactionPlan): string[] {
  return slide.fields.filter((f) => f.class === 'phi' && !plan.removedFields.includes(f.id)).map((f) => f.id);
}

/**
 * The two checks on outputs, written (redactSlide) or as views (verifyViews): against the plan
 * (re-opened with the drivers: images, MPP, removed fields), and from the output bytes alone (the
 * allowlist map: no non-zero byte outside the structure, no field that is neither allowed nor
 * kept by the user) — the check the server repeats on upload. Problems in words, never a value.
 */
export async function checkOutputs(slide: Slide, plan: RedactionPlan, sources: ByteSource[], opts: OutputCheckOptions): Promise<string[]> {
  let after: Slide;
  try {
    after = await openSlide(sources, opts.signal);
  } catch (e) {
    const err = toSlideError(e);
    if (err.code === 'ABORTED') throw err;
    return [`the output cannot be opened (${err.code})`];
  }
  const alone = await verifyOutputAlone(sources, { ...opts, format: slide.format });
  return [...verifyRedaction(slide, plan, after), ...alone];
}

/**
 * Structure verification on the views BEFORE any byte is sent: the checks redactSlide runs on a
 * written output, reading what those checks read (metadata; all bytes only with byteScan 'now').
 * What verification read is kept on each view, so its CheckedReader notices an original that
 * changed since. Throws SlideError VERIFY_FAILED like redactSlide.
 */
export async function verifyViews(slide: Slide, plan: RedactionPlan, views: OutputView[], opts: VerifyViewsOptions = {}): Promise<{ keptFields: string[]; problems: string[] }> {
  const keptFields = keptFieldsOf(slide, plan);
  const planViews = views.filter((v): v is PlanOutputView => v instanceof PlanOutputView);
  // Only views of our own can carry the deferred check to their reader.
  const defer = opts.byteScan !== 'now' && planViews.length === views.length;
  const bySource = new Map(planViews.map((v) => [v.asSource(), v]));
  for (const v of planViews) {
    v.byteCheck = undefined;
    v.record(true);
  }
  let problems: string[];
  try {
    problems = await checkOutputs(slide, plan, views.map((v) => v.asSource()), {
      keptFields: new Set(keptFields),
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(defer
        ? {
            deferByteScan: (part, outside, checker) => {
              const view = bySource.get(part);
              if (!view) throw new SlideError('INTERNAL', `${part.name}: not one of the views being verified`);
              view.byteCheck = { outside, codestreams: checker.streams };
            },
          }
        : {}),
    });
  } catch (e) {
    throw toSlideError(e, slide.name);
  } finally {
    for (const v of planViews) v.record(false);
  }
  if (problems.length > 0) {
    throw new SlideError('VERIFY_FAILED', `${slide.name}: the de-identified slide failed verification and nothing was sent (${problems.join('; ')})`, { detail: problems.join('\n') });
  }
  return { keptFields, problems };
}
