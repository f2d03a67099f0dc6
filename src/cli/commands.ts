import { realpath } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { openSlide } from '../engine/open.ts';
import { NodeFileSource } from '../engine/io/node/file-source.ts';
import { NodeDirTarget, threadedNodeSha256 } from '../engine/io/node/dir-target.ts';
import { defaultRequest, redactSlide } from '../engine/redact/redact.ts';
import type { RedactionReport, RedactionRequest } from '../engine/redact/plan-types.ts';
import type { Slide } from '../engine/formats/slide-format.ts';
import { SlideError, toSlideError, type SerializedSlideError } from '../shared/errors.ts';
import { collectSlides, type SlideInput } from './collect.ts';

export interface SlideSummary {
  name: string;
  format: string;
  width: number;
  height: number;
  mpp: { x: number; y: number; source: string } | null;
  images: Slide['images'];
  fields: Slide['fields'];
}

export type Result<T> = { input: string; ok: true; value: T } | { input: string; ok: false; error: SerializedSlideError };

export interface RedactOptions {
  out: string;
  keepLabel: boolean;
  keepMacro: boolean;
  keep: string[];
  onProgress?: (input: string, done: number, total: number) => void;
}

export interface VerifyResult {
  format: string;
  /** Ids and labels only: never the values. */
  identifyingFields: { id: string; label: string }[];
  associatedImages: { id: string; role: string }[];
  clean: boolean;
}

/** Open every slide of the inputs; `use` sees each, errors become per-input results. */
async function eachSlide<T>(paths: string[], use: (slide: Slide, input: SlideInput) => Promise<T>): Promise<Result<T>[]> {
  const c = await collectSlides(paths);
  const results: Result<T>[] = [];
  const rank = (r: Result<T>) => c.order.indexOf(r.input);
  for (const m of c.missing) results.push({ input: m, ok: false, error: new SlideError('NOT_FOUND', `${m}: no such file or directory`).toJSON() });
  for (const u of c.unclaimed) results.push({ input: u, ok: false, error: new SlideError('NOT_RECOGNIZED', `${u}: not a supported whole-slide image`).toJSON() });
  for (const s of c.slides) {
    const sources: NodeFileSource[] = [];
    try {
      for (const f of s.files) sources.push(await NodeFileSource.open(f));
      const slide = await openSlide(sources);
      results.push({ input: s.files.length === 1 ? s.files[0]! : s.name, ok: true, value: await use(slide, s) });
    } catch (e) {
      results.push({ input: s.files.length === 1 ? s.files[0]! : s.name, ok: false, error: toSlideError(e, s.name).toJSON() });
    } finally {
      for (const src of sources) await src.close();
    }
  }
  // Report in command-line order (missing paths first: they are not in the expansion).
  return results.map((r, i) => ({ r, i })).sort((a, b) => rank(a.r) - rank(b.r) || a.i - b.i).map((x) => x.r);
}

export function summarize(slide: Slide): SlideSummary {
  return { name: slide.name, format: slide.format, width: slide.width, height: slide.height, mpp: slide.mpp ?? null, images: slide.images, fields: slide.fields };
}

export function inspect(paths: string[]): Promise<Result<SlideSummary>[]> {
  return eachSlide(paths, async (slide) => summarize(slide));
}

/** Auto redact minus what the user keeps; `--keep` takes a field id or its label. */
export function buildRequest(slide: Slide, o: Pick<RedactOptions, 'keepLabel' | 'keepMacro' | 'keep'>): RedactionRequest {
  const req = defaultRequest(slide);
  const keep = new Set(o.keep.map((k) => k.toLowerCase()));
  const kept = (id: string) => {
    const f = slide.fields.find((x) => x.id === id)!;
    return keep.has(f.id.toLowerCase()) || keep.has(f.label.toLowerCase());
  };
  return {
    removeFields: req.removeFields.filter((id) => !kept(id)),
    removeImages: req.removeImages.filter((id) => {
      const role = slide.images.find((i) => i.id === id)!.role;
      return !((role === 'label' && o.keepLabel) || (role === 'overview' && o.keepMacro));
    }),
  };
}

export async function redact(paths: string[], o: RedactOptions): Promise<Result<RedactionReport>[]> {
  const outDir = resolve(o.out);
  const target = new NodeDirTarget(outDir);
  const claimed = new Set<string>();
  return eachSlide(paths, async (slide, input) => {
    // One output name per slide per run; never overwrite an input.
    if (claimed.has(slide.name)) throw new SlideError('CONFLICT', `another input already wrote ${slide.name} to the output folder`);
    claimed.add(slide.name);
    for (const f of input.files) {
      const outPath = join(outDir, slide.name);
      const same = await Promise.all([realpath(f), realpath(outPath).catch(() => '')]);
      if (same[0] === same[1]) throw new SlideError('CONFLICT', 'the output folder is the input folder: refusing to overwrite the original');
    }
    return redactSlide(slide, buildRequest(slide, o), target, {
      hasher: threadedNodeSha256,
      onProgress: (d, t) => o.onProgress?.(input.name, d, t),
    });
  });
}

/** Is a file clean: no identifying field, no label or overview image? */
export function verify(paths: string[]): Promise<Result<VerifyResult>[]> {
  return eachSlide(paths, async (slide) => {
    const identifyingFields = slide.fields.filter((f) => f.class === 'phi').map((f) => ({ id: f.id, label: f.label }));
    const associatedImages = slide.images.filter((i) => i.role === 'label' || i.role === 'overview').map((i) => ({ id: i.id, role: i.role }));
    return { format: slide.format, identifyingFields, associatedImages, clean: identifyingFields.length === 0 && associatedImages.length === 0 };
  });
}
