import type { Readable } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { HashingFileStore } from './hashing-store.ts';
import { WriteGates } from './write-gates.ts';

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
  private readonly gates = new WriteGates();

  override write(readable: IncomingMessage | Readable, id: string, offset: number): Promise<number> {
    return this.gates.run(id, readable, (gated) => super.write(gated, id, offset));
  }

  /**
   * Stops the write in progress for `id`, if any: it rejects with `reason` (a tus hook error, so
   * @tus/server answers the PATCH with it). True when a write was stopped.
   */
  stopWrite(id: string, reason: unknown): boolean {
    return this.gates.stop(id, reason);
  }

  /** True while a PATCH is writing bytes of this upload (tests). */
  isWriting(id: string): boolean {
    return this.gates.isWriting(id);
  }
}
