import { realpath } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { openSlide } from '../engine/open.ts';
import { NodeFileSource } from '../engine/io/node/file-source.ts';
import { NodeDirTarget, threadedNodeSha256 } from '../engine/io/node/dir-target.ts';
import { defaultRequest, redactSlide } from '../engine/redact/redact.ts';
import { verifyOutputAlone } from '../engine/redact/verify-output.ts';
import type { RedactionReport, RedactionRequest } from '../engine/redact/plan-types.ts';
import type { Slide } from '../engine/formats/slide-format.ts';
import { DicomSlide } from '../engine/dicom/dicom-slide.ts';
import { SlideError, toSlideError, type SerializedSlideError } from '../shared/errors.ts';
import { collectSlides, type Collected, type SlideInput } from './collect.ts';
import { loadOrCreateBatchKey } from './batch-key.ts';
import { clearSlideFolder, OutputNames, RenamingTarget } from './output-names.ts';
import { judgeDicomSlide } from './verify-dicom.ts';

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

/** Files inside the given directories that are not slides: listed, never a failure. */
export interface Skipped {
  file: string;
  reason: string;
}

export interface Outcome<T> {
  results: Result<T>[];
  skipped: Skipped[];
}

export interface RedactOptions {
  out: string;
  keepLabel: boolean;
  keepMacro: boolean;
  keep: string[];
  /** MIRAX: de-identify a slide whose Data files are missing (what is there). */
  allowIncomplete?: boolean;
  /** DICOM UID key (hex); default: the output folder's stored batch key. */
  uidKey?: string;
  onProgress?: (input: string, done: number, total: number) => void;
}

export interface VerifyResult {
  format: string;
  /** Identifying fields still holding a real value. Ids and labels only: never the values. */
  identifyingFields: { id: string; label: string }[];
  associatedImages: { id: string; role: string }[];
  /** Other reasons the file is not clean (DICOM: de-identification not recorded). */
  problems: string[];
  clean: boolean;
}

/** What a result is called: the file, or for a multi-file (DICOM) slide its directory. */
export function inputLabel(s: SlideInput): string {
  if (s.files[0]!.toLowerCase().endsWith('.mrxs')) return s.files[0]!; // MIRAX: the .mrxs names the slide
  return s.files.length === 1 ? s.files[0]! : dirname(s.files[0]!);
}

/** The collected paths that are not slides, as failed results ('at': where they rank in the order). */
export function collectedFailures(c: Collected): { at: string; r: Result<never> }[] {
  const failures: { at: string; r: Result<never> }[] = [];
  for (const m of c.missing) failures.push({ at: '', r: { input: m, ok: false, error: new SlideError('NOT_FOUND', `${m}: no such file or directory`).toJSON() } });
  for (const u of c.unclaimed) failures.push({ at: u, r: { input: u, ok: false, error: new SlideError('NOT_RECOGNIZED', `${u}: not a supported whole-slide image`).toJSON() } });
  for (const f of c.failed) failures.push({ at: f.file, r: { input: f.file, ok: false, error: new SlideError(f.code, f.message).toJSON() } });
  return failures;
}

/** Open one collected slide for `use`; its files are closed again afterwards, whatever happens. */
export async function withSlide<T>(s: SlideInput, use: (slide: Slide, input: SlideInput) => Promise<T>): Promise<T> {
  const sources: NodeFileSource[] = [];
  try {
    for (const f of s.files) sources.push(await NodeFileSource.open(f));
    return await use(await openSlide(sources), s);
  } finally {
    for (const src of sources) await src.close();
  }
}

/** Open every slide of the inputs; `use` sees each, errors become per-input results. */
async function eachSlide<T>(paths: string[], use: (slide: Slide, input: SlideInput) => Promise<T>): Promise<Outcome<T>> {
  const c = await collectSlides(paths);
  const ranked: { at: string; r: Result<T> }[] = collectedFailures(c);
  for (const s of c.slides) {
    const input = inputLabel(s);
    try {
      ranked.push({ at: s.files[0]!, r: { input, ok: true, value: await withSlide(s, use) } });
    } catch (e) {
      ranked.push({ at: s.files[0]!, r: { input, ok: false, error: toSlideError(e).toJSON() } });
    }
  }
  // Report in command-line order (missing paths first: they are not in the expansion).
  const rank = (at: string) => (at === '' ? -1 : c.order.indexOf(at));
  const results = ranked.map((x, i) => ({ ...x, i })).sort((a, b) => rank(a.at) - rank(b.at) || a.i - b.i).map((x) => x.r);
  return { results, skipped: c.skipped };
}

export function summarize(slide: Slide): SlideSummary {
  return { name: slide.name, format: slide.format, width: slide.width, height: slide.height, mpp: slide.mpp ?? null, images: slide.images, fields: slide.fields };
}

export function inspect(paths: string[]): Promise<Outcome<SlideSummary>> {
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

/** Would writing `outPath` replace one of the input's own files or its directory? */
async function isInputPath(input: SlideInput, outPath: string): Promise<boolean> {
  const out = await realpath(outPath).catch(() => '');
  if (out === '') return false;
  for (const f of input.files) {
    const own = input.kind === 'file' ? await realpath(f) : await realpath(dirname(f));
    if (own === out) return true;
  }
  return false;
}

/**
 * Redact every slide into `o.out`: TIFF/SVS as '<base name>', DICOM as '<folder>/<n>.dcm'. Every
 * DICOM slide of the run uses one UID key (the folder's stored key unless --uid-key), so a retry
 * into the same folder reproduces the UIDs and slides of one study stay in one remapped study.
 */
export async function redact(paths: string[], o: RedactOptions): Promise<Outcome<RedactionReport>> {
  return eachSlide(paths, await createRedactor(o));
}

/** De-identifies one open slide into the output folder; `redact` and `upload` share it (one batch key, one name record). */
export type Redactor = (slide: Slide, input: SlideInput, onProgress?: (done: number, total: number) => void) => Promise<RedactionReport>;

export async function createRedactor(o: RedactOptions): Promise<Redactor> {
  const outDir = resolve(o.out);
  const secret = await loadOrCreateBatchKey(outDir);
  const uidKey = o.uidKey ?? secret;
  const names = await OutputNames.load(outDir, secret);
  const base = new NodeDirTarget(outDir);
  return async (slide, input, onProgress) => {
    const { name, reused } = await names.claim(input.name, input.identity, input.kind);
    if (await isInputPath(input, join(outDir, name))) throw new SlideError('CONFLICT', 'the output would replace the input: refusing to overwrite the original');
    if (reused && input.kind === 'folder') await clearSlideFolder(join(outDir, name));
    // MIRAX outputs are '<name>.mrxs' + '<name>/…': the engine names them from the request.
    const target = new RenamingTarget(base, slide.format === 'mirax' ? name : slide.name, name);
    const request = buildRequest(slide, o);
    if (slide.format === 'dicom-wsi') request.options = { uidKey };
    if (slide.format === 'mirax') request.options = { outputName: name, ...(o.allowIncomplete ? { allowIncomplete: true } : {}) };
    const report = await redactSlide(slide, request, target, {
      hasher: threadedNodeSha256,
      onProgress: (d, t) => {
        o.onProgress?.(name, d, t);
        onProgress?.(d, t);
      },
    });
    await names.record(name, input.identity);
    return { ...report, slideName: name, outputs: report.outputs.map((x) => ({ ...x, name: target.rename(x.name) })) };
  };
}

/**
 * Is a slide clean? No label or overview image, and no identifying field with a real value:
 * for TIFF/SVS any identifying field counts; for DICOM the de-identification must be recorded
 * and identifying attributes may remain only emptied, dummied or remapped. And the output-alone
 * verification holds: no byte outside the structure, no text segment inside image data.
 */
export function verify(paths: string[]): Promise<Outcome<VerifyResult>> {
  return eachSlide(paths, async (slide) => {
    const associatedImages = slide.images.filter((i) => i.role === 'label' || i.role === 'overview').map((i) => ({ id: i.id, role: i.role }));
    let identifyingFields: VerifyResult['identifyingFields'];
    let problems: string[] = [];
    if (slide instanceof DicomSlide) {
      const verdict = judgeDicomSlide(slide);
      identifyingFields = verdict.remaining;
      problems = verdict.problems;
    } else {
      identifyingFields = slide.fields.filter((f) => f.class === 'phi').map((f) => ({ id: f.id, label: f.label }));
    }
    // Bytes outside the structure, unblanked text segments, unparseable parts: what the output-alone
    // verification finds besides the fields (those are judged above, so all are passed as known).
    problems = [...problems, ...(await verifyOutputAlone(slide.parts, { keptFields: new Set(slide.fields.map((f) => f.id)), format: slide.format }))];
    const clean = identifyingFields.length === 0 && associatedImages.length === 0 && problems.length === 0;
    return { format: slide.format, identifyingFields, associatedImages, problems, clean };
  });
}
