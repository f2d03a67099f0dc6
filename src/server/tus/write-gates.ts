import { PassThrough, type Readable } from 'node:stream';
import type { IncomingMessage } from 'node:http';

/**
 * A way to stop a PATCH's write in progress when its upload is terminated, for any tus store
 * (TerminableFileStore for the data folder, HashingS3Store for a bucket).
 *
 * Why: @tus/server makes a DELETE wait for the upload's lock, which the running PATCH holds until
 * its body ends. Stopping the write with a tus error ends the PATCH at once with that error as its
 * answer, and the DELETE gets the lock right after.
 */
export class WriteGates {
  /** The running write of each upload (tus's lock allows one at a time per upload). */
  private readonly writes = new Map<string, (reason: unknown) => void>();

  /** Run `write` over a gated copy of `readable`; if stopped, it rejects with the stop's reason. */
  async run(id: string, readable: IncomingMessage | Readable, write: (gated: Readable) => Promise<number>): Promise<number> {
    // Our own gate: destroying it stops the store's pipeline without touching tus's request
    // stream (tus decides what happens to the connection).
    const gate = new PassThrough();
    // A stop can come before the store reads the gate (S3Store first fetches the upload's
    // metadata and parts): without a listener its 'error' would be an uncaught exception that
    // ends the process. The store's reader still sees the error, and run() rethrows the reason.
    gate.on('error', () => undefined);
    let stopped: { reason: unknown } | undefined;
    const stop = (reason: unknown): void => {
      if (stopped) return;
      stopped = { reason };
      readable.unpipe(gate);
      gate.destroy(reason instanceof Error ? reason : new Error('upload terminated'));
    };
    readable.on('error', (e) => gate.destroy(e));
    readable.pipe(gate);
    this.writes.set(id, stop);
    try {
      const end = await write(gate);
      // A store may take a stream's early end as a short write: stopped is stopped all the same.
      if (stopped) throw stopped.reason;
      return end;
    } catch (e) {
      // The store wraps or replaces the error; the reason the write was stopped is what counts.
      throw stopped ? stopped.reason : e;
    } finally {
      if (this.writes.get(id) === stop) this.writes.delete(id);
    }
  }

  /** Stop the write in progress for `id`, if any. True when a write was stopped. */
  stop(id: string, reason: unknown): boolean {
    const stop = this.writes.get(id);
    if (!stop) return false;
    stop(reason);
    return true;
  }

  isWriting(id: string): boolean {
    return this.writes.has(id);
  }
}
