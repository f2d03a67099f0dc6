import { Upload, type UploadOptions } from 'tus-js-client';
import { IdbUrlStorage } from './idb-url-storage.ts';
import { api } from './api-request.ts';
import { sentence } from '../shared/sentence.ts';
import { SlideError } from '../shared/errors.ts';
import type { ViewUpload } from './view-source.ts';
import { withDeferredDigest } from './deferred-digest.ts';

/** Upload-Metadata of one part, as the server's upload contract defines it. */
export interface UploadMetadata {
  filename: string;
  /** The part's path inside a multi-file slide found by name (MIRAX `X/Slidedat.ini`); ends in `filename`. */
  path?: string;
  slideId: string;
  part: string;
  parts: string;
  format: string;
  sha256: string;
  mode: 'deidentified' | 'direct';
  batchId: string;
  /** Deidentified parts: the identifying fields the user kept, encoded by shared/kept-fields.ts. */
  keptFields?: string;
}

export interface UploadJob {
  /** Unique per part: `${slideId}:${part}`. */
  id: string;
  /** Returns the bytes to send (the OPFS copy's File, or the original in Direct Upload mode). */
  file: () => Promise<Blob>;
  metadata: UploadMetadata;
  /**
   * Zero-copy part (metadata.sha256 'deferred'): read through the worker's checked views instead
   * of `file`. Called once per run, so the digest sent is always that of this run's reads.
   */
  view?: () => Promise<ViewUpload>;
  /**
   * Resume key of a part whose hash is not known up front (zero-copy): the slide's plan (its
   * decisions and the originals' sizes and dates), so a reload finds the same upload again.
   */
  planKey?: string;
}

/** 'waiting': the server's storage is full (507); the part is tried again after a delay (`error` says so). */
export type JobState = 'queued' | 'uploading' | 'paused' | 'waiting' | 'verifying' | 'done' | 'failed' | 'cancelled';

export interface JobProgress {
  id: string;
  state: JobState;
  bytesSent: number;
  bytesTotal: number;
  /** Bytes per second over the last few seconds. */
  speed: number;
  error?: string;
  scanId?: number;
  /** The last request could not reach the server; tus tries again after a delay (no bytes move). */
  reconnecting?: boolean;
  /**
   * Zero-copy: the bytes could not be read or were refused before leaving (a removed value found,
   * the original changed): the partial upload was removed from the server; `error` says why.
   */
  sourceFailed?: boolean;
  /** The part's SHA-256 as the server confirmed it (zero-copy parts learn it only at the end). */
  sha256?: string;
}

export interface QueueOptions {
  endpoint?: string;
  /** Parallel uploads; loopback and lab networks do best with 1–2 large-chunk streams. */
  concurrency?: number;
  chunkSize?: number;
  /** No progress for this long while uploading: abort the request and resume from the server's offset. */
  stallMs?: number;
  retryDelays?: number[];
  /**
   * Waits after the server answered 507 (its storage is full), one per attempt in a row, the last
   * repeated: nothing is lost meanwhile (the part resumes from the server's offset), so it keeps
   * trying until someone frees space or the user cancels.
   */
  storageFullDelays?: number[];
  onProgress?: (p: JobProgress) => void;
  /** Called after the server confirmed a part (hash matched): the staged copy may be deleted. */
  onConfirmed?: (job: UploadJob, scanId: number | undefined) => void | Promise<void>;
}

/** SlideError detail of a part the server refused with 460 (its hash did not match ours). */
const CHECKSUM_MISMATCH = 'CHECKSUM_MISMATCH';
/** A part whose bytes arrive damaged this often is not sent again: something is wrong locally. */
const MAX_RESENDS = 2;
/** SlideError detail of a part the server could not store because its disk is full (507). */
const SERVER_STORAGE_FULL = 'SERVER_STORAGE_FULL';
// Short at first (an admin freeing space is often quick), then every few minutes.
const DEFAULT_STORAGE_FULL_DELAYS = [5000, 10000, 20000, 40000, 60000, 120000, 300000];

// Minutes, not seconds: a lab network or a restarting server can be gone for a while.
const DEFAULT_RETRY = [0, 1000, 3000, 5000, 10000, 20000, 30000, 60000, 60000, 120000, 120000, 300000, 300000, 300000];

/** GET /api/uploads/slide/:slideId, the parts the client needs (see src/server/routes/uploads.ts). */
interface SlideStatusResponse {
  scan: { id: number; status: string } | null;
  parts: { part: number; status: 'complete' | 'corrupt' | 'uploading' | 'missing'; sha256?: string }[];
}

interface PartStatus {
  part: number;
  status: string;
  sha256?: string;
  scanId?: number;
}

/**
 * Runs tus uploads on the main thread (tus-js-client's browser build cannot load in a worker, see
 * STACK-NOTES; XHR is asynchronous so the page stays responsive). Resumable across reloads: upload
 * URLs are stored in IndexedDB under our own fingerprint (slide id + part + content hash), never
 * name/size/mtime, because a staged copy gets a new mtime each time.
 */
export class UploadQueue {
  /** Upload URLs of the user the batch belongs to (a shared PC keeps several users' apart). */
  private readonly storage: IdbUrlStorage;
  private readonly jobs = new Map<string, { job: UploadJob; progress: JobProgress; upload?: Upload; lastMove: number; samples: [number, number][]; resends: number; storageWaits: number }>();
  private readonly order: string[] = [];
  private running = 0;
  private paused = false;
  private watchdog: ReturnType<typeof setInterval> | undefined;
  /**
   * While the server's storage is full no part starts (each would only be refused too): until
   * this time (ms), then the waiting part goes first.
   */
  private holdUntil = 0;
  private holdTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly opts: Required<Omit<QueueOptions, 'onProgress' | 'onConfirmed'>> & QueueOptions;

  constructor(userId: number, options: QueueOptions = {}) {
    this.storage = new IdbUrlStorage(userId);
    this.opts = { endpoint: '/files/', concurrency: 1, chunkSize: 32 * 1024 * 1024, stallMs: 60_000, retryDelays: DEFAULT_RETRY, storageFullDelays: DEFAULT_STORAGE_FULL_DELAYS, ...options };
  }

  add(job: UploadJob): void {
    if (this.jobs.has(job.id)) return;
    this.jobs.set(job.id, { job, progress: { id: job.id, state: 'queued', bytesSent: 0, bytesTotal: 0, speed: 0 }, lastMove: Date.now(), samples: [], resends: 0, storageWaits: 0 });
    this.order.push(job.id);
    this.pump();
  }

  get active(): boolean {
    return [...this.jobs.values()].some((j) => ['uploading', 'verifying', 'queued', 'waiting'].includes(j.progress.state));
  }

  pause(): void {
    this.paused = true;
    for (const j of this.jobs.values()) {
      if (j.progress.state === 'uploading' && j.upload) {
        void j.upload.abort(false);
        this.running--;
        this.update(j, { state: 'paused' });
      } else if (j.progress.state === 'queued' || j.progress.state === 'waiting') this.update(j, { state: 'paused', error: undefined });
    }
  }

  resume(): void {
    this.paused = false;
    // The user may have made room on the server: try now rather than at the end of the wait.
    this.holdUntil = 0;
    for (const j of this.jobs.values()) if (j.progress.state === 'paused') this.update(j, { state: 'queued' });
    this.pump();
  }

  /** Failed parts (e.g. the server was gone longer than the retry delays) go back in the queue. */
  retryFailed(): void {
    for (const j of this.jobs.values()) if (j.progress.state === 'failed') this.update(j, { state: 'queued', error: undefined });
    this.pump();
  }

  /** Stop a part and delete it on the server (tus termination). */
  async cancel(id: string): Promise<void> {
    const j = this.jobs.get(id);
    if (!j || j.progress.state === 'done') return;
    const wasRunning = j.progress.state === 'uploading';
    this.update(j, { state: 'cancelled' });
    if (j.upload) await j.upload.abort(true).catch(() => undefined);
    await this.storage.removeByFingerprint(fingerprintOf(j.job));
    if (wasRunning) {
      this.running--;
      this.pump();
    }
  }

  /**
   * End on the server (tus termination) an upload this job left in an earlier run and forget its
   * URL, without running it: a zero-copy part that will be sent another way after a reload.
   */
  async terminateStored(job: UploadJob): Promise<void> {
    const fp = fingerprintOf(job);
    for (const u of await this.storage.findUploadsByFingerprint(fp)) {
      const url = u.uploadUrl ? new URL(u.uploadUrl, location.href) : undefined;
      // Only our own server's uploads: the session cookie goes nowhere else.
      if (url?.origin === location.origin) await fetch(url, { method: 'DELETE', headers: { 'Tus-Resumable': '1.0.0' }, credentials: 'same-origin' }).catch(() => undefined);
    }
    await this.storage.removeByFingerprint(fp);
  }

  private pump(): void {
    if (this.paused) return;
    this.ensureWatchdog();
    const wait = this.holdUntil - Date.now();
    if (wait > 0) {
      clearTimeout(this.holdTimer);
      this.holdTimer = setTimeout(() => this.pump(), wait);
      return;
    }
    // The part that met the full disk goes first, where it stopped.
    for (const j of this.jobs.values()) if (j.progress.state === 'waiting') this.update(j, { state: 'queued', error: undefined });
    while (this.running < this.opts.concurrency) {
      const next = this.order.map((id) => this.jobs.get(id)!).find((j) => j.progress.state === 'queued');
      if (!next) break;
      this.running++;
      void this.run(next).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  private async run(j: NonNullable<ReturnType<UploadQueue['jobs']['get']>>): Promise<void> {
    try {
      // Already confirmed by the server (e.g. a reload after the last byte went through): skip.
      // A zero-copy part complete on the server matched the digest this client sent (Z2): it is ours.
      const before = await this.partStatus(j.job);
      if (before?.status === 'complete' && (before.sha256 === j.job.metadata.sha256 || (j.job.view && before.sha256 !== undefined))) {
        await this.confirm(j, before.scanId, before.sha256);
        return;
      }
      const view = j.job.view ? await j.job.view() : undefined;
      const file = view ? undefined : await j.job.file();
      const size = view ? view.input.size : file!.size;
      this.update(j, { state: 'uploading', bytesTotal: size, sourceFailed: false });
      try {
        await this.send(j, view ?? file!);
      } catch (e) {
        if (view && isSourceFailure(e)) {
          await this.removeFailedView(j);
          throw e;
        }
        // 460: the bytes the server hashed are not the bytes we announced (damaged on the way, or
        // a bad disk read). The server has dropped them; send the part again, from a new upload.
        if (!(e instanceof SlideError && e.detail === CHECKSUM_MISMATCH) || j.resends >= MAX_RESENDS || j.progress.state !== 'uploading') throw e;
        j.resends++;
        await this.storage.removeByFingerprint(fingerprintOf(j.job));
        this.update(j, { state: 'queued', bytesSent: 0 });
        return;
      }
      if (j.progress.state !== 'uploading') return; // paused or cancelled meanwhile
      this.update(j, { state: 'verifying', bytesSent: size });
      const expected = view ? view.digest : j.job.metadata.sha256;
      const after = await this.waitForServer(j.job);
      if (after?.status === 'corrupt' && j.resends < MAX_RESENDS) {
        // The server's hash disagreed with ours: forget the URL and send the part again.
        j.resends++;
        await this.storage.removeByFingerprint(fingerprintOf(j.job));
        this.update(j, { state: 'queued', bytesSent: 0 });
        return;
      }
      if (after?.status === 'complete' && after.sha256 !== undefined && after.sha256 !== expected) {
        throw new SlideError('CONFLICT', 'The server already holds different content for this part.');
      }
      if (after?.status !== 'complete') throw new SlideError('NETWORK', `The server did not confirm the upload (${after?.status ?? 'no status'}).`);
      await this.confirm(j, after.scanId, after.sha256 ?? expected);
    } catch (e) {
      if (j.progress.state === 'paused' || j.progress.state === 'cancelled') return;
      if (j.job.view && isSourceFailure(e)) {
        this.update(j, { state: 'failed', error: sentence((e as Error).message), sourceFailed: true });
        return;
      }
      if (e instanceof SlideError && e.detail === SERVER_STORAGE_FULL) {
        this.waitForStorage(j);
        return;
      }
      this.update(j, { state: 'failed', error: e instanceof Error ? e.message : String(e) });
    }
  }

  /**
   * The server's disk is full (507): not the file's fault and nothing is lost, so instead of
   * failing, the part waits and tries again (from the server's offset), with growing delays.
   */
  private waitForStorage(j: NonNullable<ReturnType<UploadQueue['jobs']['get']>>): void {
    const delays = this.opts.storageFullDelays;
    const delay = delays[Math.min(j.storageWaits, delays.length - 1)] ?? 60_000;
    j.storageWaits++;
    this.holdUntil = Math.max(this.holdUntil, Date.now() + delay);
    this.update(j, { state: 'waiting', speed: 0, error: `Server storage full, retrying in ${delay < 60_000 ? `${Math.round(delay / 1000)} s` : `${Math.round(delay / 60_000)} min`}` });
  }

  /**
   * A zero-copy part stopped before its bytes left (sweep hit, unreadable original): what the
   * server holds of it goes (tus termination), and its stored URL with it.
   */
  private async removeFailedView(j: NonNullable<ReturnType<UploadQueue['jobs']['get']>>): Promise<void> {
    await j.upload?.abort(true).catch(() => undefined);
    await this.storage.removeByFingerprint(fingerprintOf(j.job));
  }

  private async confirm(j: NonNullable<ReturnType<UploadQueue['jobs']['get']>>, scanId: number | undefined, sha256?: string): Promise<void> {
    j.storageWaits = 0;
    await this.storage.removeByFingerprint(fingerprintOf(j.job));
    this.update(j, { state: 'done', scanId, bytesSent: j.progress.bytesTotal || j.progress.bytesSent, ...(sha256 ? { sha256 } : {}) });
    await this.opts.onConfirmed?.(j.job, scanId);
  }

  private send(j: NonNullable<ReturnType<UploadQueue['jobs']['get']>>, file: Blob | ViewUpload): Promise<void> {
    const view = file instanceof Blob ? undefined : file;
    return new Promise((resolve, reject) => {
      const plain: UploadOptions = {
        // Zero-copy: slices come checked from the worker.
        ...(view ? { fileReader: view.fileReader } : {}),
        endpoint: this.opts.endpoint,
        chunkSize: this.opts.chunkSize,
        retryDelays: this.opts.retryDelays,
        metadata: { ...j.job.metadata },
        storeFingerprintForResuming: true,
        removeFingerprintOnSuccess: false, // removed only once the server confirmed the hash
        urlStorage: this.storage,
        fingerprint: async () => fingerprintOf(j.job),
        onProgress: (sent, total) => {
          j.lastMove = Date.now();
          if (j.progress.reconnecting) this.update(j, { reconnecting: false });
          this.sample(j, sent);
          this.update(j, { bytesSent: sent, bytesTotal: total });
        },
        onSuccess: () => resolve(),
        onError: (err) => {
          // A zero-copy read refused or failed in the worker: its own words, never retried.
          const local = sourceError(err);
          if (view && local) {
            reject(local);
            return;
          }
          const status = statusOf(err);
          // Shown in the file's row, after its name: no name again, and a sentence.
          const message = sentence(serverMessage(err) ?? err.message.split('\n')[0]);
          if (status === 507) reject(new SlideError('QUOTA', message, { cause: err, detail: SERVER_STORAGE_FULL }));
          // 413: the lab's storage quota (or the server's size limit) has no room for this file.
          else if (status === 413) reject(new SlideError('QUOTA', message, { cause: err }));
          else reject(new SlideError(status === 460 ? 'CORRUPT' : 'NETWORK', message, { cause: err, ...(status === 460 ? { detail: CHECKSUM_MISMATCH } : {}) }));
        },
        onShouldRetry: (err) => {
          // Refusals (bad metadata, auth, permission, conflicting content, gone, size, quota) will not
          // heal by retrying the same upload; a checksum mismatch (460) is re-sent from scratch and a
          // full server disk (507) waited out by run(), with delays of its own.
          // A 409 OFFSET_CONFLICT means the request carried a stale offset — e.g. the browser re-sent
          // a PATCH cut off by a server instance that died, and another instance behind the same
          // proxy answered: retrying re-reads the offset (HEAD) and resumes. Other 409s (content
          // conflict, upload complete) stay final.
          const staleOffset = statusOf(err) === 409 && serverError(err)?.code === 'OFFSET_CONFLICT';
          const retry = (staleOffset || ![400, 401, 403, 404, 409, 410, 413, 460, 507].includes(statusOf(err))) && !(view && sourceError(err));
          // No answer at all (server down, network gone): say "Reconnecting…" rather than keep
          // showing the last speed while tus waits to try again.
          if (retry && statusOf(err) === 0 && j.progress.state === 'uploading') {
            j.samples = [];
            this.update(j, { reconnecting: true, speed: 0 });
          }
          return retry;
        },
      };
      // Zero-copy: `sha256=deferred`, and the request carrying the last byte sends the digest (Z2).
      const options = view ? withDeferredDigest(plain, view.deferred) : plain;
      const upload = new Upload(view ? (view.input as unknown as Blob) : (file as Blob), options);
      j.upload = upload;
      j.lastMove = Date.now();
      void upload.findPreviousUploads().then((previous) => {
        if (previous.length > 0) upload.resumeFromPreviousUpload(previous[0]);
        upload.start();
      }, reject);
    });
  }

  private sample(j: { samples: [number, number][]; progress: JobProgress }, sent: number): void {
    const now = Date.now();
    j.samples.push([now, sent]);
    while (j.samples.length > 2 && now - j.samples[0][0] > 5000) j.samples.shift();
    const [t0, b0] = j.samples[0];
    j.progress.speed = now > t0 ? ((sent - b0) * 1000) / (now - t0) : 0;
  }

  /** The stall watchdog: an upload whose bytes have not moved for stallMs is restarted from the server's offset. */
  private ensureWatchdog(): void {
    this.watchdog ??= setInterval(() => {
      const now = Date.now();
      for (const j of this.jobs.values()) {
        if (j.progress.state !== 'uploading' || !j.upload || now - j.lastMove < this.opts.stallMs) continue;
        j.lastMove = now;
        const up = j.upload;
        void up.abort(false).then(() => up.start());
      }
      if (!this.active) {
        clearInterval(this.watchdog);
        this.watchdog = undefined;
      }
    }, 5000);
  }

  private async partStatus(job: UploadJob): Promise<PartStatus | undefined> {
    try {
      const r = await api<SlideStatusResponse>(`/api/uploads/slide/${encodeURIComponent(job.metadata.slideId)}`);
      const p = r.parts.find((x) => String(x.part) === job.metadata.part);
      return p && { part: p.part, status: p.status, sha256: p.sha256, scanId: r.scan?.id };
    } catch {
      return undefined;
    }
  }

  /** The server hashes a part after its last byte; poll briefly until it says complete or corrupt. */
  private async waitForServer(job: UploadJob): Promise<PartStatus | undefined> {
    for (let i = 0; i < 120; i++) {
      const s = await this.partStatus(job);
      if (s && s.status !== 'uploading' && s.status !== 'hashing') return s;
      await new Promise((r) => setTimeout(r, Math.min(250 * (i + 1), 2000)));
    }
    return undefined;
  }

  private update(j: { progress: JobProgress }, patch: Partial<JobProgress>): void {
    Object.assign(j.progress, patch);
    // Only a running upload can be reconnecting; any other state ends it.
    if (j.progress.state !== 'uploading') j.progress.reconnecting = false;
    this.opts.onProgress?.({ ...j.progress });
  }
}

/** HTTP status of a tus-js-client error (0 when there was no response). */
function statusOf(err: Error): number {
  return (err as { originalResponse?: { getStatus(): number } | null }).originalResponse?.getStatus() ?? 0;
}

/** The server's own words ({error:{message}}) from a tus error, rather than tus-js-client's long text. */
function serverMessage(err: Error): string | undefined {
  return serverError(err)?.message;
}

/** The server's JSON error body ({error:{code, message}}) of a tus error, when it sent one. */
function serverError(err: Error): { code?: string; message?: string } | undefined {
  try {
    const body = (err as { originalResponse?: { getBody(): string } }).originalResponse?.getBody();
    return body ? (JSON.parse(body) as { error?: { code?: string; message?: string } }).error : undefined;
  } catch {
    return undefined;
  }
}

export function fingerprintOf(job: UploadJob): string {
  if (job.planKey !== undefined) return `wsi:${job.metadata.slideId}:${job.metadata.part}:plan:${job.planKey}`;
  return `wsi:${job.metadata.slideId}:${job.metadata.part}:${job.metadata.sha256}`;
}

/** The SlideError a zero-copy source threw (worker: sweep hit, unreadable original), if that is what failed. */
function sourceError(err: Error): SlideError | undefined {
  const cause = (err as { causingError?: unknown }).causingError;
  return cause instanceof SlideError ? cause : undefined;
}

function isSourceFailure(e: unknown): boolean {
  return e instanceof SlideError && ['VERIFY_FAILED', 'CHANGED', 'IO', 'NOT_FOUND', 'CONFLICT', 'INTERNAL', 'ABORTED'].includes(e.code) && e.detail !== CHECKSUM_MISMATCH && e.detail !== SERVER_STORAGE_FULL;
}
