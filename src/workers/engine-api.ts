import { transfer } from 'comlink';
import { openSlide } from '../engine/open.ts';
import { BlobSource } from '../engine/io/web/blob-source.ts';
import { HttpRangeSource } from '../engine/io/web/http-range-source.ts';
import { BlockedSource } from '../engine/io/blocked-source.ts';
import { workerSha256 } from '../engine/io/web/worker-hash.ts';
import { opfsDir, OpfsTarget } from '../engine/io/web/opfs.ts';
import { defaultRequest, redactSlide } from '../engine/redact/redact.ts';
import { decodeTile } from '../engine/codecs/decode-tile.ts';
import { findSlideBarcodes } from '../engine/barcode/index.ts';
import { decodeJpegBitmap } from './jpeg-bitmap.ts';
import type { EncodedTile, Slide, SlideImage } from '../engine/formats/slide-format.ts';
import type { RedactionReport, RedactionRequest } from '../engine/redact/plan-types.ts';
import { SlideError, toSlideError } from '../shared/errors.ts';
import type { BarcodeScan, InspectResult, ProgressCallback, SlideSummary, Thumbnail } from './engine-api-types.ts';
import { groupDicomFiles, previewImage, zipOpfsFiles } from './wizard-ops.ts';
import { groupMiraxFiles } from './mirax-grouper.ts';
import { openGroups, type FileGrouper } from './file-groups.ts';
import { closeViews, digest, openViews, readChunk, type OpenedViews, type PlantForTest } from './upload-views.ts';

/**
 * The engine worker's API (exposed with Comlink by engine.worker.ts). Slides stay open here, by
 * key, between inspect, thumbnail, readTile and redactToOpfs; the page holds only summaries.
 */

interface OpenSlideEntry {
  slide: Slide;
  files: File[];
  busy?: boolean;
}

/**
 * SHA-256 runs in its own worker (hash.worker), next to this one: built as hash.worker.js beside
 * engine.worker.js (esbuild.config.mjs); the browser tests serve the TypeScript sources, bundled
 * per request, so there the sibling is hash.worker.ts.
 */
const hashWorkerUrl = new URL(import.meta.url.split(/[?#]/)[0]!.endsWith('.ts') ? './hash.worker.ts' : './hash.worker.js', import.meta.url);
const sha256 = workerSha256(hashWorkerUrl);

/**
 * Background hashes (the originals' SHA-256 for the batch record) wait here between pieces while
 * the page says an upload is sending: on a 2-core PC a second full SHA-256 beside the upload's own
 * read, check and hash costs the upload ~20 % of its speed. The hash state stays in the hash
 * worker, so a held hash resumes where it stopped.
 */
let holdBackground = false;
const heldHashes = new Set<() => void>();
const backgroundGate = (): Promise<void> => new Promise<void>((r) => heldHashes.add(r));
const releaseBackground = (): void => {
  for (const r of heldHashes) r();
  heldHashes.clear();
};

const slides = new Map<string, OpenSlideEntry>();
/** Running long jobs by the caller's job id: AbortSignals cannot cross the worker boundary, ids can. */
const jobs = new Map<string, AbortController>();

function startJob(jobId: string | undefined): { signal: AbortSignal; done: () => void } {
  const ac = new AbortController();
  if (jobId !== undefined) jobs.set(jobId, ac);
  return { signal: ac.signal, done: () => void (jobId !== undefined && jobs.delete(jobId)) };
}
let nextKey = 1;

/** The seam for multi-file formats (file-groups.ts); DICOM and MIRAX groupers are added below. */
export type { FileGrouper };
export const fileGroupers: FileGrouper[] = [];

function entry(key: string): OpenSlideEntry {
  const e = slides.get(key);
  if (!e) throw new SlideError('NOT_FOUND', 'this slide is no longer open; inspect it again');
  return e;
}

function summary(key: string, slide: Slide, files: { name: string; size: number }[]): SlideSummary {
  return {
    key, name: slide.name, format: slide.format, size: files.reduce((a, f) => a + f.size, 0), files: files.map((f) => f.name),
    width: slide.width, height: slide.height, mpp: slide.mpp ?? null, images: slide.images, fields: slide.fields,
    defaultRequest: defaultRequest(slide),
    ...(slide.incomplete ? { incomplete: slide.incomplete.message } : {}),
  };
}

async function tileBitmap(t: EncodedTile): Promise<ImageBitmap> {
  if (t.codec === 'image/jpeg') return createImageBitmap(new Blob([t.bytes as Uint8Array<ArrayBuffer>], { type: 'image/jpeg' }));
  const { rgba, width, height } = await decodeTile(t);
  return createImageBitmap(new ImageData(rgba as Uint8ClampedArray<ArrayBuffer>, width, height));
}

export const engineApi = {
  /**
   * Open each picked slide; failures are per slide, the batch never throws. `paths` (same order
   * as `files`): each file's path inside a folder pick; results then name files by these paths.
   * A file of a folder pick that no driver recognises is skipped (see file-groups.ts).
   */
  async inspect(files: File[], paths?: string[]): Promise<InspectResult[]> {
    const pathMap = new Map(files.map((f, i) => [f, paths?.[i] ?? f.name]));
    const pathsOf = (group: File[]) => group.map((f) => pathMap.get(f)!);
    const out: InspectResult[] = [];
    for (const g of await openGroups(files, pathMap, fileGroupers)) {
      if ('error' in g) {
        out.push({ ok: false, name: g.files[0]?.name ?? '', files: pathsOf(g.files), error: g.error.toJSON() });
        continue;
      }
      const key = `s${nextKey++}`;
      slides.set(key, { slide: g.slide, files: g.files });
      out.push({ ok: true, slide: summary(key, g.slide, g.files.map((f) => ({ name: pathMap.get(f)!, size: f.size }))) });
    }
    return out;
  },

  /** A small preview (longest side <= maxSize), or null when the slide's codec cannot be shown here. */
  async thumbnail(key: string, maxSize: number, imageId?: string): Promise<Thumbnail | null> {
    const { slide } = entry(key);
    // imageId: a label or overview for the wizard's image review (default: the slide's thumbnail).
    // The thumbnail or smallest level within a decode budget (pixels, not tiles or strips: see wizard-ops).
    // Stripped images: readTile's grid is one strip per row; its height comes from the tile itself.
    const img = previewImage(slide.images, imageId);
    if (!img) return null;
    const scale = Math.min(1, maxSize / Math.max(img.width, img.height));
    const width = Math.max(1, Math.round(img.width * scale));
    const height = Math.max(1, Math.round(img.height * scale));
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext('2d')!;
    try {
      let y = 0;
      for (let row = 0; y < img.height; row++) {
        let rowHeight = 0;
        for (let col = 0, x = 0; x < img.width; col++) {
          const t = await slide.readTile(img.id, col, row);
          const bmp = await tileBitmap(t);
          ctx.drawImage(bmp, x * scale, y * scale, t.width * scale, t.height * scale);
          bmp.close();
          x += t.width;
          rowHeight = t.height;
        }
        y += rowHeight;
      }
    } catch (e) {
      const err = toSlideError(e);
      if (err.code === 'UNSUPPORTED') return null;
      throw err;
    }
    const bitmap = canvas.transferToImageBitmap();
    return transfer({ bitmap, width, height }, [bitmap]);
  },

  /**
   * Barcodes on the label (else the macro) and in vendor metadata (contract C4), before the label
   * is removed. Values are PHI-ish: the page uses them to propose a case and never sends them.
   */
  async barcodes(key: string): Promise<BarcodeScan> {
    return findSlideBarcodes(entry(key).slide, { decodeJpeg: decodeJpegBitmap });
  },

  /** One encoded tile, standalone (JPEG tables spliced, APP14 added), for the deep-zoom preview. */
  async readTile(key: string, imageId: string, col: number, row: number): Promise<EncodedTile> {
    const t = await entry(key).slide.readTile(imageId, col, row);
    const bytes = t.bytes.slice();
    return transfer({ ...t, bytes }, [bytes.buffer]);
  },

  /**
   * Write the de-identified copy into OPFS under `batchDir` (e.g. "batches/<id>"), verified and
   * swept. Output names in the report are OPFS paths. cancel(jobId) aborts it (outputs deleted).
   */
  async redactToOpfs(key: string, request: RedactionRequest, batchDir: string, onProgress?: ProgressCallback, jobId?: string): Promise<RedactionReport> {
    const e = entry(key);
    if (e.busy) throw new SlideError('CONFLICT', `${e.slide.name}: already being de-identified`);
    e.busy = true;
    const job = startJob(jobId);
    let last = 0;
    try {
      const target = new OpfsTarget(await opfsDir(batchDir));
      const report = await redactSlide(e.slide, request, target, {
        signal: job.signal,
        hasher: sha256,
        onProgress: (done, total) => {
          // Throttle: a progress message per ~0.5% is plenty across the worker boundary.
          if (onProgress && (done === total || done - last >= total / 200)) {
            last = done;
            void onProgress(done, total);
          }
        },
      });
      return { ...report, outputs: report.outputs.map((o) => ({ ...o, name: `${batchDir.replace(/\/+$/, '')}/${o.name}` })) };
    } finally {
      e.busy = false;
      job.done();
    }
  },

  /** Cancel a running job (redactToOpfs, sha256File) by the id the caller gave it. */
  cancel(jobId: string): void {
    jobs.get(jobId)?.abort();
  },

  /** Forget a slide (its File stays the page's). */
  close(key: string): void {
    slides.delete(key);
  },

  /**
   * Streaming SHA-256 of a Blob (e.g. an original for Direct Upload), cancellable by job id.
   * `background`: it waits between pieces while holdBackgroundHashing(true) is in force.
   */
  async sha256File(blob: Blob, jobId?: string, background = false): Promise<string> {
    const job = startJob(jobId);
    const onAbort = () => releaseBackground();
    job.signal.addEventListener('abort', onAbort);
    try {
      const h = sha256();
      try {
        const src = new BlobSource(blob);
        const chunk = 8 * 1024 * 1024;
        for (let o = 0; o < src.size; o += chunk) {
          while (background && holdBackground && !job.signal.aborted) await backgroundGate();
          if (job.signal.aborted) throw new SlideError('ABORTED', 'cancelled');
          await h.update(await src.read(o, chunk));
        }
        return await h.digestHex();
      } finally {
        h.dispose?.();
      }
    } finally {
      job.signal.removeEventListener('abort', onAbort);
      job.done();
    }
  },

  /** Hold (true) or let go on (false) every background sha256File: the page sends an upload, or is idle. */
  holdBackgroundHashing(on: boolean): void {
    holdBackground = on;
    if (!on) releaseBackground();
  },

  /** A decoded tile (any codec the browser or the engine can decode), for the deep-zoom viewer. */
  async tileBitmap(key: string, imageId: string, col: number, row: number): Promise<ImageBitmap> {
    const bmp = await tileBitmap(await entry(key).slide.readTile(imageId, col, row));
    return transfer(bmp, [bmp]);
  },

  /**
   * Open a stored scan through HTTP Range (same drivers as the import); kept open by key.
   * `partNames`: the parts' names inside the slide, for a slide whose driver finds its parts by
   * name (MIRAX: `X.mrxs`, `X/Slidedat.ini`, …); otherwise parts are named after the scan.
   */
  async openRemote(urls: string[], name: string, partNames?: string[]): Promise<{ key: string; summary: SlideSummary; levels: { imageId: string; width: number; height: number; tileWidth: number; tileHeight: number }[] }> {
    const partName = (i: number) => partNames?.[i] ?? (urls.length === 1 ? name : `${name} (part ${i + 1})`);
    // Parsers make many small reads: a block cache turns them into a few range requests.
    const sources = await Promise.all(urls.map(async (u, i) => new BlockedSource(await HttpRangeSource.open(u, partName(i)), 64 * 1024, 128)));
    const slide = await openSlide(sources);
    const key = `s${nextKey++}`;
    slides.set(key, { slide, files: [] });
    const levels = slide.images.filter((i) => i.role === 'level').sort((a, b) => a.level! - b.level!)
      .map((i) => ({ imageId: i.id, width: i.width, height: i.height, tileWidth: i.tileWidth ?? i.width, tileHeight: i.tileHeight ?? i.height }));
    return { key, summary: summary(key, slide, sources.map((s) => ({ name: s.name, size: s.size }))), levels };
  },

  // ---- zero-copy upload (contract Z3, src/workers/upload-views.ts) ----

  /**
   * Plan the slide opened under `key`, build its outputs as views over the originals and verify
   * them (Z1 verifyViews). No byte is written or sent. `plantForTest`: test builds only (the page
   * passes it only when a test set its flag), a value the plan missed, to show the sweep stops it.
   */
  async openUploadViews(key: string, request: RedactionRequest, plantForTest?: PlantForTest): Promise<OpenedViews> {
    return openViews(entry(key).slide, request, plantForTest);
  },

  /** Checked sequential read of one output (hashed and swept before it is returned); transferred, never copied. */
  async readUploadChunk(viewSetId: string, output: number, from: number, length: number): Promise<Blob> {
    const chunk = await readChunk(viewSetId, output, from, length, sha256);
    // A Blob, made here: the copy into the browser's blob store happens on this thread, and the
    // page passes a handle to the request (a 32 MiB array body is copied on the page's thread:
    // ~90 ms tasks per chunk measured in wizard-big-file).
    return new Blob([chunk as Uint8Array<ArrayBuffer>]);
  },

  /** SHA-256 of an output once its last chunk was read (sent as Upload-Sha256 with the last PATCH). */
  uploadDigest(viewSetId: string, output: number): Promise<string> {
    return digest(viewSetId, output);
  },

  closeUploadViews(viewSetId: string): void {
    closeViews(viewSetId);
  },

  // ---- import wizard additions (src/workers/wizard-ops.ts) ----

  /** Zip a multi-file slide's staged OPFS outputs into one OPFS file, for Download. */
  async zipStaged(paths: string[], names: string[], zipPath: string): Promise<{ size: number }> {
    return zipOpfsFiles(paths, names, zipPath);
  },
};

export type EngineApi = typeof engineApi;

// A DICOM directory becomes slides, not a row per instance.
fileGroupers.push(groupDicomFiles);
// MIRAX first: it groups by path alone, so the DICOM grouper never reads its Data files' headers.
fileGroupers.unshift(groupMiraxFiles);
