import { plural } from '../../shared/plural.ts';
import { SlideError, throwIfAborted, toSlideError } from '../../shared/errors.ts';
import type { ByteSink, ByteSource } from '../io/byte-source.ts';
import type { Slide } from '../formats/slide-format.ts';
import { applyOutputPlan, DEFAULT_CHUNK } from './apply.ts';
import type { RedactionPlan, RedactionReport, RedactionRequest } from './plan-types.ts';
import { createSha256, type HasherFactory } from './sha256.ts';
import { sweepPatterns } from './encodings.ts';
import { PhiSweeper, SWEEP_FLOOR, sweepMinLength } from './sweep.ts';
import { checkOutputs, keptFieldsOf } from './verify-views.ts';

/** Where outputs go: a directory on disk (Node) or an OPFS directory (browser worker). */
export interface OutputTarget {
  /** Create (or replace) an output; names may contain "/" for sub-folders. */
  createSink(name: string): Promise<ByteSink>;
  /** Re-open a written output for verification. */
  openSource(name: string): Promise<ByteSource>;
  /** Delete an output (a failed or cancelled one must not be used). */
  remove?(name: string): Promise<void>;
  /** Release a source returned by openSource. */
  closeSource?(source: ByteSource): Promise<void>;
}

export interface RedactOptions {
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
  /** Hash implementation; defaults to the pure-TS SHA-256 (Node may inject node:crypto). */
  hasher?: HasherFactory;
  chunkSize?: number;
}

/** Auto redact: every identifying field, every label and overview image. */
export function defaultRequest(slide: Slide): RedactionRequest {
  return {
    removeFields: slide.fields.filter((f) => f.class === 'phi').map((f) => f.id),
    removeImages: slide.images.filter((i) => i.role === 'label' || i.role === 'overview').map((i) => i.id),
  };
}

/**
 * Plan, write, verify and sweep one slide. Each output is written in one sequential pass; the
 * SHA-256 and the PHI sweep run over exactly the bytes handed to the sink (a sink must write every
 * byte or throw). Then the outputs are re-opened and checked against the plan and from their bytes
 * alone (verify-output.ts). Any failure removes the outputs (when the target can) and throws;
 * VERIFY_FAILED names the file.
 */
export async function redactSlide(slide: Slide, request: RedactionRequest, target: OutputTarget, opts: RedactOptions = {}): Promise<RedactionReport> {
  const { signal } = opts;
  const hasher = opts.hasher ?? createSha256;
  let plan: RedactionPlan;
  try {
    plan = await slide.plan(request, signal);
  } catch (e) {
    throw toSlideError(e, slide.name);
  }
  const total = plan.outputs.reduce((a, o) => a + o.size, 0);
  const written: string[] = [];
  try {
    let before = 0;
    const outputs: RedactionReport['outputs'] = [];
    let searched = 0;
    let hits = 0;
    let blankedSegments = 0;
    const patterns = sweepPatterns(plan.sweepValues, plan.sweepExact);
    for (const out of plan.outputs) {
      throwIfAborted(signal);
      const hash = hasher();
      try {
        const sweeper = new PhiSweeper(patterns, out.size, out.generated);
        const sink = await target.createSink(out.name);
        written.push(out.name);
        try {
          const applied = await applyOutputPlan(out, slide.parts, sink, {
            chunkSize: opts.chunkSize ?? DEFAULT_CHUNK,
            ...(signal ? { signal } : {}),
            onChunk: (bytes) => {
              // Hash first: an off-thread hasher takes its copy and starts while this thread sweeps.
              const hashed = hash.update(bytes);
              sweeper.push(bytes);
              return hashed;
            },
            onProgress: (done) => opts.onProgress?.(before + done, total),
          });
          blankedSegments += applied.blankedSegments;
          await sink.flush();
        } finally {
          await sink.close();
        }
        before += out.size;
        // Values, not their encoded forms: each value is searched in every form it can take.
        const min = Math.max(SWEEP_FLOOR, sweepMinLength(out.size));
        searched = Math.max(searched, plan.sweepValues.filter((v) => v.length >= min).length);
        hits += sweeper.hits;
        outputs.push({ name: out.name, size: out.size, sha256: await hash.digestHex() });
      } finally {
        hash.dispose?.();
      }
    }
    throwIfAborted(signal);
    const keptFields = keptFieldsOf(slide, plan);
    const problems = await verifyOutputs(slide, plan, target, new Set(keptFields), signal);
    const report: RedactionReport = {
      slideName: slide.name,
      format: slide.format,
      outputs,
      removedFields: plan.removedFields,
      removedImages: plan.removedImages,
      keptFields,
      blankedSegments,
      verify: { ok: problems.length === 0, problems },
      sweep: { valuesSearched: searched, hits, ok: hits === 0 },
    };
    if (!report.verify.ok || !report.sweep.ok) {
      const why = [...problems, ...(hits > 0 ? [`${plural(hits, 'removed value')} still found in the output bytes`] : [])];
      throw new SlideError('VERIFY_FAILED', `${slide.name}: the de-identified copy failed verification and was discarded (${why.join('; ')})`, { detail: why.join('\n') });
    }
    return report;
  } catch (e) {
    if (target.remove) {
      for (const name of written) await target.remove(name).catch(() => {});
    }
    throw toSlideError(e, slide.name);
  }
}

/** The checks of verify-views.ts (one path for written outputs and views), on the written files. */
async function verifyOutputs(slide: Slide, plan: RedactionPlan, target: OutputTarget, keptFields: ReadonlySet<string>, signal?: AbortSignal): Promise<string[]> {
  const sources: ByteSource[] = [];
  try {
    for (const out of plan.outputs) sources.push(await target.openSource(out.name));
    return await checkOutputs(slide, plan, sources, { keptFields, ...(signal ? { signal } : {}) });
  } finally {
    for (const s of sources) await target.closeSource?.(s);
  }
}
