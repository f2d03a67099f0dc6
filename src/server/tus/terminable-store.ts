import { PassThrough, type Readable } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { HashingFileStore } from './hashing-store.ts';

/**
 * The upload store, plus a way to stop a PATCH's write in progress when its upload is terminated.
 *
 * Why: @tus/server makes a DELETE wait for the upload's lock, which the running PATCH holds until
 * its body ends. Left alone, the PATCH is cut off only after the lock drain timeout (3 s), its
 * partial write then "succeeds" and the client is told 204 with an offset of an upload that no
 * longer exists. Stopping the write with a tus error instead ends the PATCH at once with that
 * error as its answer, and the DELETE gets the lock right after.
 */
export class TerminableFileStore extends HashingFileStore {
  /** The running write of each upload (tus's lock allows one at a time per upload). */
  private readonly writes = new Map<string, (reason: unknown) => void>();

  override async write(readable: IncomingMessage | Readable, id: string, offset: number): Promise<number> {
    // The bytes go through a gate of our own: destroying it stops the store's pipeline without
    // touching tus's request stream (tus decides what happens to the connection).
    const gate = new PassThrough();
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
      return await super.write(gate, id, offset);
    } catch (e) {
      // The store wraps or replaces the error; the reason the write was stopped is what counts.
      throw stopped ? stopped.reason : e;
    } finally {
      if (this.writes.get(id) === stop) this.writes.delete(id);
    }
  }

  /**
   * Stops the write in progress for `id`, if any: it rejects with `reason` (a tus hook error, so
   * @tus/server answers the PATCH with it). True when a write was stopped.
   */
  stopWrite(id: string, reason: unknown): boolean {
    const stop = this.writes.get(id);
    if (!stop) return false;
    stop(reason);
    return true;
  }

  /** True while a PATCH is writing bytes of this upload (tests). */
  isWriting(id: string): boolean {
    return this.writes.has(id);
  }
}
