import { redactionRequest, type BatchRecord, type PartUpload, type SlideEntry, type StagedSlide } from './batch-types.ts';
import { DEFERRED_SHA256 } from './view-source.ts';
import { SlideViews, type ZeroCopyEngine } from './slide-views.ts';

export type { OpenedViews, ZeroCopyEngine } from './slide-views.ts';
import { planKey } from './plan-key.ts';
import type { RedactionRequest } from '../engine/redact/plan-types.ts';
import { SlideError, toSlideError } from '../shared/errors.ts';
import { encodeKeptFields } from '../shared/kept-fields.ts';
import { api } from './api-request.ts';
import { overallProgress, type OverallProgress } from './progress.ts';
import { deleteStaged, deleteStagedDir, diskEstimate, stagedFile, stagingBudget, stagingDir, type DiskEstimate } from './staging.ts';
import { isOriginalsNeeded } from './originals-needed.ts';
import { UploadQueue, type JobProgress, type QueueOptions, type UploadJob } from './upload-queue.ts';
import { OriginalHashes, type BackgroundHashEngine } from './original-hashes.ts';
import { partPaths, uploadName } from '../shared/upload-name.ts';
import { matchMetadata } from '../shared/match-metadata.ts';

/** What the uploader needs from the engine worker (see src/app/engine-client.ts). */
export interface StagingEngine extends BackgroundHashEngine {
  /** De-identify a slide into OPFS `dir`; outputs carry their sha256, verify and sweep results. */
  deidentify(slideId: string, files: File[], request: RedactionRequest, dir: string, onProgress: (done: number, total: number) => void, signal?: AbortSignal): Promise<StagedSlide>;
  /** Zero-copy (contract Z3): absent in engines that cannot, which then always stage. */
  views?: ZeroCopyEngine;
}

export interface BatchUploaderOptions {
  batch: () => BatchRecord;
  /** The slide's original files in part order (resolved from the batch's sources). */
  files: (slide: SlideEntry) => Promise<File[]>;
  engine: StagingEngine;
  /** Something changed (state, a part finished): re-render and save. */
  onChange: () => void;
  /**
   * Only bytes moved (upload or de-identification progress): may be throttled by the caller.
   * Progress arrives several times a second per part; re-rendering and saving on each would wake
   * the main thread far more often than a person can read a progress bar.
   */
  onProgress?: () => void;
  /** At most this many bytes of staged copies at once (further bounded by the disk estimate). */
  stagingCap?: number;
  /** The disk estimate the budget is checked against (navigator.storage.estimate by default). */
  estimate?: () => Promise<DiskEstimate>;
  queue?: QueueOptions;
  /**
   * Send de-identified slides straight from their originals (zero-copy, issue 15) when the
   * originals can be read now; otherwise, and when off, they are staged in OPFS first as before.
   */
  zeroCopy?: boolean;
  /**
   * The slide's originals come back with a click (stored File System Access handles): after a
   * reload a zero-copy slide waits for "Reconnect files" instead of falling back to staging.
   */
  reconnectable?: (slide: SlideEntry) => boolean;
  /**
   * The originals' background hashing for the batch record, started by the wizard as soon as the
   * slides are known (original-hashes.ts); the uploader holds it while sending. Made here when absent.
   */
  originalHashes?: OriginalHashes;
}

const GiB = 1024 * 1024 * 1024;

/** What the uploader reads of the server's scan (see src/server/routes/scans.ts). */
interface ScanStatusResponse {
  scan: { status: string; error: string | null; quarantine: { problems: string[] } | null };
}
/** Scan states in which the server has not yet given its verdict. */
const UNSETTLED = ['uploading', 'processing'];

/**
 * Runs step 6: de-identification into OPFS runs ahead of the tus uploads within a disk budget;
 * Direct Upload hashes and sends the originals. All state lives in the batch record, so a reload
 * calls start() again and everything continues from where it stood.
 */
export class BatchUploader {
  private readonly queue: UploadQueue;
  private readonly live = new Map<string, JobProgress>();
  private readonly abort = new AbortController();
  private staging: Promise<void> | undefined;
  private wakeStaging: (() => void) | undefined;
  private stageProgress = new Map<string, number>();
  private stopped = false;
  /** The slide whose original files are needed (after a reload) before staging can go on. */
  private waitingFor: string | undefined;
  private wakeOriginals: (() => void) | undefined;
  /** Slides whose server verdict is being polled (one poller each). */
  private readonly checking = new Set<string>();
  /** Zero-copy slides' open views in the worker, shared by their parts. */
  private readonly views: SlideViews;
  /** The originals' hashes for the batch record: off the send path, held while anything sends. */
  private readonly hashes: OriginalHashes;
  private readonly ownHashes: boolean;

  constructor(private readonly o: BatchUploaderOptions) {
    this.queue = new UploadQueue(o.batch().userId, {
      ...o.queue,
      onProgress: (p) => this.onJob(p),
      onConfirmed: (job, scanId) => this.onConfirmed(job, scanId),
    });
    this.views = new SlideViews(o.engine.views, o.files, () => this.batch.uidKey);
    this.ownHashes = !o.originalHashes;
    this.hashes = o.originalHashes ?? new OriginalHashes({ engine: o.engine, files: o.files, onChange: () => this.changed() });
  }

  private get batch(): BatchRecord {
    return this.o.batch();
  }

  /** The slides that go: readable, not removed from the batch. */
  slides(): SlideEntry[] {
    return this.batch.slides.filter((s) => !s.error && !s.excluded);
  }

  get active(): boolean {
    return !this.stopped && !this.batch.uploadCancelled && this.slides().some((s) => !this.slideDone(s) && !s.stageError && !this.quarantined(s));
  }

  start(): void {
    // A cancelled batch stays cancelled across reloads until the user presses "Start again".
    if (this.batch.uploadCancelled) return;
    this.stopped = false;
    // Direct Upload's hashes are the upload's own (taken in prepare before sending).
    if (!this.batch.directUpload) this.hashes.want(this.slides());
    this.staging ??= this.stageLoop().finally(() => (this.staging = undefined));
    // After a reload: slides sent before it whose verdict had not come yet.
    for (const s of this.slides()) if (this.partsDone(s)) this.checkOnServer(s);
  }

  pause(): void {
    this.batch.uploadPaused = true;
    this.queue.pause();
    this.changed();
  }

  resume(): void {
    this.batch.uploadPaused = false;
    for (const s of this.slides()) if (s.stageError) s.stageError = undefined;
    this.queue.resume();
    this.queue.retryFailed();
    this.start();
    this.changed();
  }

  /** The user reconnected or re-selected original files: staging and failed parts try again. */
  originalsChanged(): void {
    this.wakeOriginals?.();
    if (!this.batch.directUpload) this.hashes.want(this.slides(), true);
    if (!this.batch.uploadPaused) this.queue.retryFailed();
  }

  /** Whether this slide waits for its original files (shown in its row). */
  waitsForOriginals(s: SlideEntry): boolean {
    return this.waitingFor === s.id;
  }

  /**
   * Stop here without deleting anything or changing the batch's flags: its user signed out
   * keeping the batch, or their session ended. A new uploader's start() continues from the saved
   * state when they are back (parts left 'paused' are queued again unless the user had paused).
   */
  stop(): void {
    this.stopped = true;
    if (this.ownHashes) this.hashes.stop();
    else this.hashes.hold(false);
    this.views.closeAll(this.batch.slides);
    this.abort.abort();
    this.wakeStaging?.();
    this.wakeOriginals?.();
    this.queue.pause();
  }

  /** Stop everything, delete what the server holds of unfinished parts and the staged copies. */
  async cancel(): Promise<void> {
    // Recorded first: a reload while the parts are being ended must not resume them.
    this.batch.uploadCancelled = true;
    this.changed();
    this.stopped = true;
    this.hashes.hold(false);
    this.views.closeAll(this.batch.slides);
    this.abort.abort();
    this.wakeStaging?.();
    this.wakeOriginals?.();
    for (const s of this.slides()) {
      for (const p of s.uploads ?? []) {
        if (p.state === 'done') continue;
        await this.queue.cancel(jobId(s, p.part));
        p.state = 'cancelled';
      }
      if (!this.partsDone(s)) {
        // A copy half written by a de-identification that was running goes too.
        await deleteStagedDir(stagingDir(this.batch, s.id)).catch(() => undefined);
        s.staged = undefined;
      }
    }
    this.changed();
  }

  /** A part of this slide cannot reach the server and waits to retry. */
  reconnecting(s: SlideEntry): boolean {
    return (s.uploads ?? []).some((p) => this.live.get(jobId(s, p.part))?.reconnecting === true);
  }

  /** Every part is on the server (its hash confirmed). */
  partsDone(s: SlideEntry): boolean {
    return !!s.uploads && s.uploads.length > 0 && s.uploads.every((p) => p.state === 'done');
  }

  /**
   * Finished: every part is on the server and, for a de-identified slide, the server's own
   * verification of the stored bytes passed. A slide it quarantined is not done: it failed.
   */
  slideDone(s: SlideEntry): boolean {
    return this.partsDone(s) && (this.batch.directUpload || s.serverCheck?.state === 'passed');
  }

  /** The server's verification failed: the slide is quarantined there (never viewable). */
  quarantined(s: SlideEntry): boolean {
    return s.serverCheck?.state === 'quarantined';
  }

  /** Bytes and speed over every part, counting slides not yet staged with their original size. */
  overall(): OverallProgress {
    return overallProgress(
      this.slides().flatMap((s) =>
        s.uploads?.length
          ? s.uploads.map((p) => {
              const l = this.live.get(jobId(s, p.part));
              const running = l?.state === 'uploading';
              return { sent: p.state === 'done' ? p.size : p.bytesSent, total: p.size, speed: running ? l.speed : 0, reconnecting: running && l.reconnecting === true };
            })
          : [{ sent: 0, total: s.size, speed: 0 }],
      ),
    );
  }

  /** Live speed of a part (bytes/s), for the per-file bars. */
  speedOf(s: SlideEntry, part: number): number {
    const l = this.live.get(jobId(s, part));
    return l?.state === 'uploading' ? l.speed : 0;
  }

  /** De-identification progress of the slide being staged, 0..1. */
  stagingFraction(s: SlideEntry): number | undefined {
    return this.stageProgress.get(s.id);
  }

  /**
   * Slides are prepared in order; each is queued for upload as soon as it is ready, so the network
   * is busy while the next one is de-identified. Staging waits when the budget is used up and
   * continues when a confirmed upload frees its copy.
   */
  private async stageLoop(): Promise<void> {
    for (const s of this.slides()) {
      if (this.stopped) return;
      try {
        if (s.sendMode === 'zero-copy' && !this.partsDone(s) && !(await this.readableNow(s))) {
          // Kept handles come back with one click ("Reconnect files"): the upload then goes on
          // where it stood, still zero-copy. Only originals that must be picked again fall back.
          if (this.o.reconnectable?.(s)) await this.waitForOriginals(s);
          if (this.stopped) return;
          if (!(await this.readableNow(s))) await this.fallBackToStaging(s);
        }
        if (!s.uploads?.length) await this.prepareWhenReadable(s);
        if (this.stopped) return;
        this.enqueue(s);
      } catch (e) {
        if (this.stopped) return;
        const err = toSlideError(e, s.name);
        s.stageError = err.message;
        if (err.code === 'QUOTA') {
          // A full disk stops staging (later slides would fail the same way): paused, so the user
          // frees space and presses Resume, which clears the message and tries again.
          this.pause();
          return;
        }
        this.changed();
      }
    }
  }

  /** Until the slide's originals are readable again (the user reconnected them) or the uploader stops. */
  private async waitForOriginals(s: SlideEntry): Promise<void> {
    while (!this.stopped && !(await this.readableNow(s))) {
      this.waitingFor = s.id;
      this.changed();
      await new Promise<void>((resolve) => (this.wakeOriginals = resolve));
      this.wakeOriginals = undefined;
      this.waitingFor = undefined;
    }
  }

  /** prepare(), waiting (instead of failing) while the slide's originals need a reconnect. */
  private async prepareWhenReadable(s: SlideEntry): Promise<void> {
    for (;;) {
      try {
        await this.prepare(s);
        return;
      } catch (e) {
        if (!isOriginalsNeeded(e) || this.stopped) throw e;
        this.waitingFor = s.id;
        this.changed();
        await new Promise<void>((resolve) => (this.wakeOriginals = resolve));
        this.wakeOriginals = undefined;
        this.waitingFor = undefined;
        if (this.stopped) return;
      }
    }
  }

  private async prepare(s: SlideEntry): Promise<void> {
    // Originals are read only where needed: a slide staged before a reload uploads without them.
    if (this.batch.directUpload) {
      const files = await this.o.files(s);
      const paths = partPaths(s, s.parts.map((p) => p.path), false);
      const uploads: PartUpload[] = [];
      for (let i = 0; i < files.length; i++) {
        const sha256 = await this.o.engine.sha256(files[i], this.abort.signal);
        const path = paths[i];
        uploads.push({ part: i, name: files[i].name, ...(path ? { path } : {}), size: files[i].size, sha256, state: 'queued', bytesSent: 0 });
      }
      s.uploads = uploads;
      // Direct Upload sends the originals: what was sent is the original.
      s.originalSha256 = uploads.map((u) => u.sha256);
      this.changed();
      return;
    }
    if (this.o.zeroCopy && this.o.engine.views && s.sendMode !== 'staged' && (await this.readableNow(s))) {
      // A copy staged earlier for Download is not needed to send the slide: it goes, freeing the disk.
      if (s.staged) {
        s.staged = undefined;
        await deleteStagedDir(stagingDir(this.batch, s.id)).catch(() => undefined);
      }
      await this.prepareZeroCopy(s);
      return;
    }
    if (!s.staged) {
      const files = await this.o.files(s);
      await this.waitForBudget(s);
      if (this.stopped) return;
      this.stageProgress.set(s.id, 0);
      this.changed();
      const request = redactionRequest(s, this.batch.uidKey);
      let lastTick = 0;
      try {
        s.staged = await this.o.engine.deidentify(s.id, files, request, stagingDir(this.batch, s.id), (done, total) => {
          this.stageProgress.set(s.id, total > 0 ? done / total : 0);
          // Progress events can come per MiB; the UI needs a few per second.
          if (Date.now() - lastTick > 250) {
            lastTick = Date.now();
            this.progressed();
          }
        }, this.abort.signal);
      } finally {
        this.stageProgress.delete(s.id);
      }
      if (!s.staged.verifyOk || !s.staged.sweep.ok) {
        // Never upload a copy that failed verification or still holds a removed value.
        const staged = s.staged;
        s.staged = undefined;
        await deleteStagedDir(stagingDir(this.batch, s.id));
        throw new SlideError('VERIFY_FAILED', staged.sweep.ok ? `the de-identified copy did not pass verification (${staged.problems.join('; ')})` : `a removed value was still found in the de-identified copy (${staged.sweep.hits} hits)`);
      }
    }
    // The server takes a plain file name (a DICOM output's has the slide's folder in front), or a
    // neutral one when the user removed the file name in the metadata review. A slide found by
    // its parts' names (MIRAX) sends each part's path, under a neutral slide name, and its base name.
    s.uploads = partUploads(s, s.staged.outputs);
    s.sendMode = 'staged';
    this.changed();
  }

  /**
   * Zero-copy: the slide's outputs as views over its originals, verified in the worker (structure
   * re-opened from the views) before any byte is sent; each chunk is then hashed and swept there
   * as it goes. Nothing is written to this PC, so no staging budget applies.
   */
  private async prepareZeroCopy(s: SlideEntry): Promise<void> {
    const files = await this.o.files(s);
    const request = redactionRequest(s, this.batch.uidKey);
    const opened = this.views.open(s, files);
    const { outputs, keptFields, valuesSearched } = await opened;
    s.zeroCopy = { planKey: await planKey(request, files), keptFields, ...(valuesSearched !== undefined ? { valuesSearched } : {}) };
    s.uploads = partUploads(s, outputs.map((o) => ({ ...o, sha256: DEFERRED_SHA256 })));
    s.sendMode = 'zero-copy';
    this.changed();
  }

  /** The slide's originals can be read without asking anyone (this session's Files, or handles still granted). */
  private async readableNow(s: SlideEntry): Promise<boolean> {
    try {
      await this.o.files(s);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * After a reload, a zero-copy slide whose originals are gone (an <input> pick, a revoked handle):
   * it goes the staged way once its originals are selected again — a copy survives the next
   * reload. Its unfinished zero-copy uploads are ended on the server (their bytes would never be completed).
   */
  private async fallBackToStaging(s: SlideEntry): Promise<void> {
    for (const p of s.uploads ?? []) if (p.state !== 'done') await this.queue.terminateStored(this.viewJob(s, p));
    s.uploads = undefined;
    s.zeroCopy = undefined;
    s.sendMode = 'staged';
    this.changed();
  }

  /** The queue job of a zero-copy part (its resume key is the plan key, see plan-key.ts). */
  private viewJob(s: SlideEntry, p: PartUpload): UploadJob {
    return { ...this.job(s, p), view: () => this.views.part(s, p), planKey: s.zeroCopy?.planKey ?? '' };
  }

  /**
   * A zero-copy part stopped before its bytes left (a removed value found in a chunk, the original
   * changed or gone): the whole slide stops with the reason, its other parts are ended on the
   * server too. Resume tries it again (from new views).
   */
  private stopSlide(s: SlideEntry, reason: string): void {
    s.stageError = reason;
    this.views.close(s);
    for (const p of s.uploads ?? []) {
      if (p.state === 'done' || p.state === 'failed') continue;
      void this.queue.cancel(jobId(s, p.part)).then(() => {
        p.state = 'failed';
        p.error = reason;
        this.changed();
      });
    }
  }

  private async waitForBudget(s: SlideEntry): Promise<void> {
    const cap = this.o.stagingCap ?? 20 * GiB;
    for (;;) {
      const stagedNow = this.stagedBytes();
      const budget = stagingBudget(await (this.o.estimate ?? diskEstimate)(), stagedNow, cap);
      if (stagedNow + s.size <= budget) return;
      if (stagedNow === 0) {
        throw new SlideError('QUOTA', `not enough disk space to de-identify this file (needs about ${Math.ceil(s.size / 1048576)} MiB). Free some disk space, then press Resume.`);
      }
      // Wait until an upload is confirmed and its copy deleted.
      await new Promise<void>((resolve) => (this.wakeStaging = resolve));
      this.wakeStaging = undefined;
      if (this.stopped) return;
    }
  }

  /** Staged bytes still on disk (not yet confirmed and deleted). */
  private stagedBytes(): number {
    let n = 0;
    for (const s of this.batch.slides) for (const o of s.staged?.outputs ?? []) if (!o.deleted) n += o.size;
    return n;
  }

  private enqueue(s: SlideEntry): void {
    for (const p of s.uploads ?? []) {
      if (p.state === 'done') continue;
      if (p.state !== 'paused' || !this.batch.uploadPaused) p.state = 'queued';
      this.queue.add(s.sendMode === 'zero-copy' ? this.viewJob(s, p) : this.job(s, p));
    }
    if (this.batch.uploadPaused) this.queue.pause();
    this.changed();
  }

  private job(s: SlideEntry, p: PartUpload): UploadJob {
    const keptFields = s.sendMode === 'zero-copy' ? s.zeroCopy?.keptFields : s.staged?.keptFields;
    return {
        id: jobId(s, p.part),
        file: () => this.partFile(s, p),
        metadata: {
          filename: p.name,
          ...(p.path ? { path: p.path } : {}),
          slideId: s.id,
          part: String(p.part),
          parts: String(s.uploads!.length),
          format: s.format ?? 'unknown',
          sha256: p.sha256,
          mode: this.batch.directUpload ? 'direct' : 'deidentified',
          batchId: this.batch.id,
          // The identifying fields the user kept: the server's verification tolerates exactly these.
          ...(!this.batch.directUpload && keptFields?.length ? { keptFields: encodeKeptFields(keptFields) } : {}),
          // The scan's display name, and its case once the user confirmed it (C1).
          ...matchMetadata(s.match, this.batch.createMissingCases),
        },
      };
  }

  private async partFile(s: SlideEntry, p: PartUpload): Promise<Blob> {
    if (this.batch.directUpload) return (await this.o.files(s))[p.part];
    return stagedFile(s.staged!.outputs[p.part].opfsPath);
  }

  private onJob(p: JobProgress): void {
    const wasReconnecting = this.live.get(p.id)?.reconnecting === true;
    this.live.set(p.id, p);
    const [slideId, part] = splitJobId(p.id);
    const s = this.batch.slides.find((x) => x.id === slideId);
    const u = s?.uploads?.find((x) => x.part === part);
    if (!s || !u) return;
    const onlyBytes = u.state === p.state && u.error === p.error && (p.scanId === undefined || s.scanId === p.scanId) && wasReconnecting === (p.reconnecting === true);
    u.state = p.state;
    u.bytesSent = p.bytesSent;
    u.error = p.error;
    if (p.scanId !== undefined) s.scanId = p.scanId;
    // Background hashing waits while bytes are being sent (not while a part waits for the server).
    this.hashes.hold([...this.live.values()].some((l) => l.state === 'uploading' && !l.reconnecting));
    // A zero-copy part learns its hash at the end: the record keeps what the server confirmed.
    if (p.state === 'done' && p.sha256 && u.sha256 === DEFERRED_SHA256) u.sha256 = p.sha256;
    if (p.state === 'failed' && p.sourceFailed) this.stopSlide(s, p.error ?? 'the slide could not be read');
    if (onlyBytes) this.progressed();
    else this.changed();
  }

  private async onConfirmed(job: UploadJob, scanId: number | undefined): Promise<void> {
    const [slideId, part] = splitJobId(job.id);
    const s = this.batch.slides.find((x) => x.id === slideId);
    if (!s) return;
    if (scanId !== undefined) s.scanId = scanId;
    const out = s.staged?.outputs[part];
    if (out && !out.deleted) {
      // The server has the bytes and its hash matched ours: the local copy is no longer needed.
      await deleteStaged(out.opfsPath);
      out.deleted = true;
      this.wakeStaging?.();
    }
    if (this.partsDone(s)) {
      this.views.close(s);
      this.checkOnServer(s);
    }
    this.changed();
  }

  /**
   * A de-identified slide whose parts are all on the server: wait for the server's verdict (it
   * verifies the stored bytes again before ingesting them) and record it on the slide. Polls
   * gently, without a time limit (a large slide takes a while, and ingests run one at a time);
   * stops when the uploader is cancelled.
   */
  private checkOnServer(s: SlideEntry): void {
    if (this.batch.directUpload || s.serverCheck?.state === 'passed' || s.serverCheck?.state === 'quarantined' || this.checking.has(s.id)) return;
    this.checking.add(s.id);
    if (!s.serverCheck) {
      s.serverCheck = { state: 'pending' };
      this.changed();
    }
    void (async () => {
      try {
        for (let i = 0; !this.stopped; i++) {
          const verdict = await this.serverVerdict(s).catch(() => undefined);
          if (this.stopped) return;
          if (verdict) {
            s.serverCheck = verdict;
            this.changed();
            return;
          }
          await new Promise((r) => setTimeout(r, Math.min(1000 * (i + 1), 10_000)));
        }
      } finally {
        this.checking.delete(s.id);
      }
    })();
  }

  /** The server's verdict on a slide, or undefined while it has none yet. */
  private async serverVerdict(s: SlideEntry): Promise<SlideEntry['serverCheck'] | undefined> {
    if (s.scanId === undefined) return undefined;
    const { scan } = await api<ScanStatusResponse>(`/api/scans/${s.scanId}`, { signal: this.abort.signal });
    if (UNSETTLED.includes(scan.status)) return undefined;
    if (scan.status !== 'quarantined') return { state: 'passed' };
    const problems = scan.quarantine?.problems ?? [];
    return { state: 'quarantined', reason: problems.length > 0 ? problems.join('; ') : (scan.error ?? 'no reason given') };
  }

  private progressed(): void {
    (this.o.onProgress ?? this.o.onChange)();
  }

  private changed(): void {
    this.o.onChange();
  }
}

/**
 * "Start again" after Cancel: every slide not yet on the server goes back to the start — its
 * cancelled parts and any staged copy are forgotten, so it is de-identified (or, in Direct
 * Upload, hashed) again and sent as new uploads. Slides already uploaded stay as they are.
 * The caller makes a new BatchUploader afterwards (a cancelled one stays stopped).
 */
export function resetCancelled(batch: BatchRecord): void {
  batch.uploadCancelled = false;
  batch.uploadPaused = false;
  for (const s of batch.slides) {
    if (s.uploads?.length && s.uploads.every((p) => p.state === 'done')) continue;
    s.uploads = undefined;
    s.staged = undefined;
    s.stageError = undefined;
    s.serverCheck = undefined;
    s.sendMode = undefined;
    s.zeroCopy = undefined;
  }
}

/** The uploads of a slide's outputs: the names the server takes (see the comment in prepare). */
function partUploads(s: SlideEntry, outputs: { name: string; size: number; sha256: string }[]): PartUpload[] {
  const paths = partPaths(s, outputs.map((o) => o.name), true);
  return outputs.map((o, i) => {
    const path = paths[i];
    return { part: i, name: path ? path.split('/').pop()! : uploadName(s, o.name), ...(path ? { path } : {}), size: o.size, sha256: o.sha256, state: 'queued', bytesSent: 0 };
  });
}

function jobId(s: SlideEntry, part: number): string {
  return `${s.id}:${part}`;
}

function splitJobId(id: string): [string, number] {
  const i = id.lastIndexOf(':');
  return [id.slice(0, i), Number(id.slice(i + 1))];
}
