import { createHash, type Hash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { PrefixedS3Store } from './prefixed-s3-store.ts';
import { WriteGates } from '../tus/write-gates.ts';

/**
 * S3Store plus the SHA-256 of each upload kept up to date as PATCH bytes arrive: what
 * HashingFileStore (src/server/tus/hashing-store.ts) gives the file store, with the same
 * `sha256(id, size)`, `onBodyStart` and `rehashedBytes`.
 *
 * The difference is the fallback. The file store re-reads the stored prefix when its running hash
 * is lost; S3 cannot read back an unfinished multipart upload. So a lost hash (another instance
 * took the upload over, a restart, a write that failed part-way) stays lost until the upload is
 * finished, and `sha256()` then streams the completed object once. The normal flow — one
 * instance, PATCH after PATCH — never reads anything back.
 *
 * It also has TerminableFileStore's `stopWrite` (a terminated upload's PATCH ends at once), so it
 * offers everything src/server/tus/tus.ts uses of its store.
 */
export class HashingS3Store extends PrefixedS3Store {
  /** A running hash covering exactly bytes [0, offset) of the upload, held only while that is certain. */
  private readonly running = new Map<string, { hash: Hash; offset: number }>();
  /** Bytes read back from the bucket to hash a finished upload: 0 in the normal flow. */
  rehashedBytes = 0;
  /** As HashingFileStore.onBodyStart: the first body byte of a write reached the store. */
  onBodyStart?: (id: string, offset: number) => void;
  private readonly gates = new WriteGates();

  /** Stop the write in progress for `id` with `reason` (a tus hook error). True when one was stopped. */
  stopWrite(id: string, reason: unknown): boolean {
    return this.gates.stop(id, reason);
  }

  /** True while a PATCH is writing bytes of this upload (tests). */
  isWriting(id: string): boolean {
    return this.gates.isWriting(id);
  }

  /** S3 has no "disk full" the server can see: always false (the file store's 507 path). */
  lastWriteHitFullDisk(_id: string): boolean {
    return false;
  }

  override write(readable: IncomingMessage | Readable, id: string, offset: number): Promise<number> {
    return this.gates.run(id, readable, (gated) => this.hashedWrite(gated, id, offset));
  }

  private async hashedWrite(readable: Readable, id: string, offset: number): Promise<number> {
    // Taken out for the duration: a write that fails leaves no stale hash behind.
    const state = this.running.get(id);
    this.running.delete(id);
    // Without a hash of [0, offset) there is nothing to continue: count bytes only.
    const hash = offset === 0 ? createHash('sha256') : state?.offset === offset ? state.hash : undefined;
    let seen = 0;
    const onBodyStart = this.onBodyStart;
    const tapped = Readable.from(
      (async function* () {
        for await (const chunk of readable) {
          const b = chunk as Buffer;
          if (seen === 0 && b.length > 0) onBodyStart?.(id, offset);
          hash?.update(b);
          seen += b.length;
          yield b;
        }
      })(),
      { objectMode: false },
    );
    const end = await super.write(tapped, id, offset);
    // Every byte seen is stored (in parts or the incomplete part) when the offsets agree exactly.
    if (hash && end === offset + seen) this.running.set(id, { hash, offset: end });
    return end;
  }

  /** SHA-256 (hex) of the finished upload's `size` bytes: the running hash, or one read of the object. */
  async sha256(id: string, size: number): Promise<string> {
    const state = this.running.get(id);
    this.running.delete(id);
    if (state && state.offset === size) return state.hash.digest('hex');
    const hash = createHash('sha256');
    let read = 0;
    for await (const chunk of await this.read(id)) {
      hash.update(chunk as Buffer);
      read += (chunk as Buffer).length;
    }
    this.rehashedBytes += read;
    if (read !== size) throw new Error(`upload object is ${read} bytes, expected ${size}`);
    return hash.digest('hex');
  }

  /** True while a running hash is held for the upload (tests). */
  hasRunningHash(id: string): boolean {
    return this.running.has(id);
  }

  override async remove(id: string): Promise<void> {
    this.running.delete(id);
    await super.remove(id);
  }
}
