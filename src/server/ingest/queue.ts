import type { Repos } from '../db/repos/index.ts';
import type { Storage } from '../storage.ts';
import { ingestScan, type IngestLimits, type IngestOutcome } from './ingest.ts';

/**
 * Runs ingests one at a time (they are I/O and CPU heavy; the server has 2 cores and must keep
 * answering uploads). A scan queued twice before it runs is ingested once.
 */
export class IngestQueue {
  private tail: Promise<void> = Promise.resolve();
  private readonly pending = new Set<string>();
  private readonly abort = new AbortController();
  private closed = false;
  private running = 0;
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
  ) {}

  enqueue(labId: number, scanId: number): void {
    const key = `${labId}/${scanId}`;
    if (this.closed || this.pending.has(key)) return;
    this.pending.add(key);
    this.tail = this.tail.then(async () => {
      this.pending.delete(key);
      if (this.closed) return;
      this.running++;
      const start = performance.now();
      let status = 'error';
      try {
        const outcome = await ingestScan(this.repos, this.storage, labId, scanId, this.limits, this.abort.signal);
        status = outcome.status;
        this.onDone?.(labId, scanId, outcome);
      } catch (e) {
        this.onError(e);
      } finally {
        this.running--;
        this.onTimed?.((performance.now() - start) / 1000, status);
      }
    });
  }

  /** Scans waiting for their turn plus the one being ingested. */
  get depth(): number {
    return this.pending.size + this.running;
  }

  /** Resolves when everything queued so far has run. */
  idle(): Promise<void> {
    return this.tail;
  }

  /** Stop: the running ingest is aborted (its scan stays 'processing' and is re-queued on next start). */
  async close(): Promise<void> {
    this.closed = true;
    this.abort.abort();
    await this.tail;
  }
}
