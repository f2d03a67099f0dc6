import { proxy } from 'comlink';
import { engine } from '../../engine-client.ts';
import type { FieldSummary, ImageSummary, StagedSlide } from '../../state/batch-store.ts';
import type { RedactionRequest } from '../../../engine/redact/plan-types.ts';
import type { InspectResult, SlideSummary } from '../../../workers/engine-api-types.ts';
import { SlideError } from '../../../shared/errors.ts';
import type { EngineInput, InspectOutcome, WizardEngine } from './wizard-engine.ts';
import { pathOfFile, rememberPath } from './file-paths.ts';

/**
 * The wizard's engine over the engine worker (Comlink). The worker keeps opened slides by key; keys
 * do not survive a reload, so a slide is re-opened from its files on first use after one.
 */
export function workerWizardEngine(): WizardEngine {
  const keys = new Map<string, Promise<string>>();

  async function keyOf(slideId: string, files: File[]): Promise<string> {
    let k = keys.get(slideId);
    if (!k) {
      // Paths too: a MIRAX slide's files are told apart by their folders.
      k = engine().inspect(files, files.map(pathOfFile)).then((r) => {
        const first = r[0];
        if (r.length !== 1 || !first.ok) throw first && !first.ok ? SlideError.fromJSON(first.error) : new SlideError('CONFLICT', 'the files no longer form one slide');
        return first.slide.key;
      });
      keys.set(slideId, k);
      k.catch(() => keys.delete(slideId));
    }
    return k;
  }

  /** Run with the slide's key; if the worker lost it (restarted), open the slide again once. */
  async function withKey<T>(slideId: string, files: File[], fn: (key: string) => Promise<T>): Promise<T> {
    try {
      return await fn(await keyOf(slideId, files));
    } catch (e) {
      if (!(e instanceof SlideError && e.code === 'NOT_FOUND')) throw e;
      keys.delete(slideId);
      return fn(await keyOf(slideId, files));
    }
  }

  function cancellable<T>(signal: AbortSignal | undefined, run: (jobId: string) => Promise<T>): Promise<T> {
    const id = crypto.randomUUID();
    const onAbort = () => void engine().cancel(id);
    signal?.addEventListener('abort', onAbort);
    return run(id).finally(() => signal?.removeEventListener('abort', onAbort));
  }

  return {
    async inspect(inputs: EngineInput[]): Promise<InspectOutcome[]> {
      for (const i of inputs) rememberPath(i.file, i.path);
      // The worker reports files by the paths given here.
      const results = await engine().inspect(inputs.map((i) => i.file), inputs.map((i) => i.path));
      return results.map((r) => toOutcome(r, (path) => path));
    },

    async preview(slideId, files, imageId, maxSize): Promise<Blob | null> {
      const t = await withKey(slideId, files, (key) => engine().thumbnail(key, maxSize, imageId));
      if (!t) return null;
      // PNG-encode the transferred bitmap so an <img> with alt text can show it.
      const canvas = new OffscreenCanvas(t.width, t.height);
      canvas.getContext('bitmaprenderer')!.transferFromImageBitmap(t.bitmap);
      return canvas.convertToBlob({ type: 'image/png' });
    },

    sha256(file: Blob, signal?: AbortSignal, opts?: { background?: boolean }): Promise<string> {
      return cancellable(signal, (id) => engine().sha256File(file, id, opts?.background === true));
    },

    holdBackgroundHashing(on: boolean): Promise<void> {
      return engine().holdBackgroundHashing(on);
    },

    async deidentify(slideId: string, files: File[], request: RedactionRequest, dir: string, onProgress, signal?: AbortSignal): Promise<StagedSlide> {
      const report = await withKey(slideId, files, (key) => cancellable(signal, (id) => engine().redactToOpfs(key, request, dir, proxy(onProgress), id)));
      return {
        outputs: report.outputs.map((o) => ({ name: o.name.slice(dir.length + 1), opfsPath: o.name, size: o.size, sha256: o.sha256 })),
        verifyOk: report.verify.ok,
        problems: report.verify.problems,
        sweep: report.sweep,
        keptFields: report.keptFields,
        blankedSegments: report.blankedSegments,
      };
    },

    barcodes(slideId, files) {
      return withKey(slideId, files, (key) => engine().barcodes(key));
    },

    zipStaged(paths, names, zipPath) {
      return engine().zipStaged(paths, names, zipPath);
    },

    // Zero-copy upload (contract Z3): the worker reads, checks and hands over each chunk.
    views: {
      openUploadViews(slideId, files, request) {
        return withKey(slideId, files, (key) => engine().openUploadViews(key, request, plantForTest()));
      },
      readUploadChunk(viewSetId, output, from, length) {
        return engine().readUploadChunk(viewSetId, output, from, length);
      },
      uploadDigest(viewSetId, output) {
        return engine().uploadDigest(viewSetId, output);
      },
      closeUploadViews(viewSetId) {
        return engine().closeUploadViews(viewSetId);
      },
    },

    async close(): Promise<void> {
      // The worker holds the opened slides (their Files and metadata) until told to forget them.
      const open = [...keys.values()];
      keys.clear();
      for (const k of open) await k.then((key) => engine().close(key)).catch(() => undefined);
    },
  };
}

function toOutcome(r: InspectResult, pathOf: (name: string) => string): InspectOutcome {
  if (!r.ok) return { paths: r.files.map(pathOf), error: { code: r.error.code, message: r.error.message } };
  const s: SlideSummary = r.slide;
  const fields: FieldSummary[] = s.fields.map((f) => ({ id: f.id, label: f.label, value: f.value, class: f.class, ...(f.reason ? { reason: f.reason } : {}) }));
  const images: ImageSummary[] = s.images.map((i) => ({ id: i.id, role: i.role, width: i.width, height: i.height, compression: i.compression }));
  return {
    paths: s.files.map(pathOf),
    slide: { name: s.name, format: s.format, width: s.width, height: s.height, ...(s.mpp ? { mpp: s.mpp } : {}), fields, images, ...(s.incomplete ? { incomplete: s.incomplete } : {}) },
  };
}

/**
 * Test-only hook (e2e zero-copy.test.ts): a value the plan missed, planted into an output after
 * planning, to show the chunk sweep stops it before it leaves. Set by the test page as
 * `__wsiPlantForTest`; no part of the app sets it. It opens nothing new: only script already
 * running in the page can set it, and such script controls the uploads anyway; the planted bytes
 * are checked like every other byte (the sweep, then the server's own verification).
 */
function plantForTest(): { output: number; offset: number; bytes: Uint8Array } | undefined {
  const p = (globalThis as { __wsiPlantForTest?: { output: number; offset: number; bytes: number[] } }).__wsiPlantForTest;
  return p ? { output: p.output, offset: p.offset, bytes: new Uint8Array(p.bytes) } : undefined;
}
