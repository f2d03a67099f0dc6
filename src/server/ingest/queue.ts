import { randomUUID } from 'node:crypto';
import type { Repos } from '../db/repos/index.ts';
import type { ClaimedJob } from '../db/repos/ingest-jobs.ts';
import type { Storage } from '../storage.ts';
import { currentRequestId, runAsRequest } from '../ops/request-id.ts';
import { ingestScan, type IngestLimits, type IngestOutcome } from './ingest.ts';

export interface IngestQueueOptions {
  /** This instance's name in the jobs' `owner` column (random per process by default). */
  owner?: string;
  /** How long a claim holds without renewal; an instance that died frees its job after this. */
  leaseMs?: number;
  /** How often to look for jobs queued by other instances (this instance's own wake it at once). */
  pollMs?: number;
  /** Runs of one job before its scan is marked failed (an instance died during each). */
  maxAttempts?: number;
}

export const EXHAUSTED_MESSAGE = 'Processing did not finish after several attempts; reprocess the scan or upload it again';

/**
 * Ingest jobs from the database, one at a time per instance (they are I/O and CPU heavy; the
 * server has 2 cores and must keep answering uploads). Jobs live in `ingest_jobs`, so a scan
 * queued twice is ingested once, several instances share the work, and a job whose instance died
 * mid-way is taken over when its lease ends (IngestJobRepo).
 */
export class IngestQueue {
  readonly owner: string;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly maxAttempts: number;
  private readonly abort = new AbortController();
  private closed = false;
  private running: ClaimedJob | undefined;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  /** Bumped by every local enqueue: idle() waits until a claim after the latest one found nothing. */
  private generation = 0;
  private settledGeneration = -1;
  private idleWaiters: (() => void)[] = [];
  /** Each ingest's duration and resulting status ('error' when it crashed): ops/metrics.ts. */
  onTimed?: (seconds: number, status: string) => void;

  constructor(
    private readonly repos: Repos,
    private readonly storage: Storage,
    /** Bounds on what a zipped DICOM folder may expand to. */
    private readonly limits: IngestLimits,
    private readonly onError: (e: unknown) => void,
    /** Each finished ingest (the server logs ids and status: never the outcome's message). */
    private readonly onDone?: (labId: number, scanId: number, outcome: IngestOutcome) => void,
    opts: IngestQueueOptions = {},
  ) {
    this.owner = opts.owner ?? `ingest-${randomUUID()}`;
    this.leaseMs = opts.leaseMs ?? 60_000;
    this.pollMs = opts.pollMs ?? 2_000;
    this.maxAttempts = opts.maxAttempts ?? 3;
  }

  /** Start taking jobs (those left by a crash or another instance included). */
  start(): void {
    this.loop ??= this.run();
  }

  /** Queue scans left 'processing' without a job (a crash between the two); run at start-up. */
  async adoptOrphans(): Promise<void> {
    if ((await this.repos.ingestJobs.adoptOrphans(Date.now())) > 0) {
      this.generation++;
      this.wake();
    }
  }

  /** Queue a scan's ingest (in the database: any instance may run it) and wake this instance. */
  async enqueue(labId: number, scanId: number): Promise<void> {
    if (this.closed) return;
    // The request's id goes with the job: whichever instance ingests logs the scan under it.
    await this.repos.ingestJobs.enqueue(labId, scanId, Date.now(), currentRequestId());
    this.generation++;
    this.wake();
  }

  /** Jobs waiting or running on any instance. */
  depth(): Promise<number> {
    return this.repos.ingestJobs.depth();
  }

  /** Resolves once this instance has found nothing more to claim after everything queued so far. */
  idle(): Promise<void> {
    this.start();
    if (this.settledGeneration >= this.generation && !this.running) return Promise.resolve();
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.wake();
    });
  }

  /** Stop: the running ingest is aborted and its job given back for the next claim. */
  async close(): Promise<void> {
    this.closed = true;
    this.abort.abort();
    this.wake();
    await this.loop;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private wake(): void {
    this.wakeUp?.();
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      const seen = this.generation;
      let job: ClaimedJob | undefined;
      try {
        await this.failExhausted();
        job = await this.repos.ingestJobs.claim(this.owner, Date.now(), this.leaseMs, this.maxAttempts);
      } catch (e) {
        if (this.closed) break;
        this.onError(e);
      }
      if (job) {
        await this.runJob(job);
        continue;
      }
      this.settledGeneration = seen;
      // Queued while the claim was looking: look again now, not after a poll interval.
      if (seen !== this.generation) continue;
      for (const w of this.idleWaiters.splice(0)) w();
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, this.pollMs);
        this.wakeUp = done;
        function done(): void {
          clearTimeout(t);
          resolve();
        }
      });
      this.wakeUp = undefined;
    }
  }

  private async runJob(job: ClaimedJob): Promise<void> {
    this.running = job;
    const start = performance.now();
    let status = 'error';
    // Renewed well before it ends; a renewal that fails means another instance took the job over
    // (this one stalled past its lease): the ingest is stopped, the other run wins.
    const stop = new AbortController();
    const onClose = () => stop.abort();
    this.abort.signal.addEventListener('abort', onClose);
    const renew = setInterval(() => {
      this.repos.ingestJobs.renew(job.scanId, this.owner, Date.now(), this.leaseMs).then(
        (ours) => void (ours || stop.abort()),
        (e: unknown) => this.onError(e),
      );
    }, Math.max(1_000, Math.floor(this.leaseMs / 3)));
    let finished = false;
    try {
      const outcome = await runAsRequest(job.requestId, () => ingestScan(this.repos, this.storage, job.labId, job.scanId, this.limits, stop.signal));
      status = outcome.status;
      finished = true;
      runAsRequest(job.requestId, () => this.onDone?.(job.labId, job.scanId, outcome));
    } catch (e) {
      if (!stop.signal.aborted) this.onError(e);
    } finally {
      clearInterval(renew);
      this.abort.signal.removeEventListener('abort', onClose);
      this.running = undefined;
      this.onTimed?.((performance.now() - start) / 1000, status);
      try {
        if (finished) await this.repos.ingestJobs.finish(job.scanId, this.owner, Date.now());
        // Stopped by close(): handed back at once. A crash inside ingest counts as an attempt
        // and stays claimed until its lease ends, so a scan that crashes every run cannot spin.
        else if (this.closed) await this.repos.ingestJobs.release(job.scanId, this.owner);
      } catch (e) {
        this.onError(e);
      }
    }
  }

  /** Scans whose job used up its attempts are failed with a reason, and their job removed. */
  private async failExhausted(): Promise<void> {
    for (const j of await this.repos.ingestJobs.exhausted(Date.now(), this.maxAttempts)) {
      await this.repos.transaction(async (tx) => {
        const scan = await tx.scans.byId(j.labId, j.scanId);
        if (scan?.status === 'processing') await tx.scans.setStatus(j.labId, j.scanId, 'failed', EXHAUSTED_MESSAGE);
        await tx.ingestJobs.drop(j.scanId);
      });
    }
  }
}
