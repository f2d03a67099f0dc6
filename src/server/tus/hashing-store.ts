import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { rm, stat } from 'node:fs/promises';
import { createHash, type Hash } from 'node:crypto';
import { resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { IncomingMessage } from 'node:http';
import { FileStore } from '@tus/file-store';
import type { Upload } from '@tus/server';
import { SlideError } from '../../shared/errors.ts';
import { storageFailureOf } from '../http/storage-errors.ts';

/** A running SHA-256 that covers exactly bytes [0, offset) of the upload's file on disk. */
interface RunningHash {
  hash: Hash;
  offset: number;
}

/**
 * The tus file store, plus a SHA-256 of each upload kept up to date as PATCH bytes are written, so
 * the final PATCH only finalises the hash instead of re-reading the whole part (about 55 s for
 * 64 GiB, during which the client waits for its answer).
 *
 * Invariant: a running hash exists for an upload only while it provably covers exactly what is on
 * disk. Whatever breaks that certainty (a write that failed part-way, so an unknown number of the
 * bytes we hashed reached the file; a size that does not add up) drops it, and the next write
 * re-hashes the stored prefix from disk once before continuing incrementally. The same fallback
 * covers a server restart (Node's Hash has no state to persist). tus's locker serialises writes to
 * one upload, so a write never races another write of the same id.
 */
export class HashingFileStore extends FileStore {
  private readonly running = new Map<string, RunningHash>();
  /** Bytes read back from disk to rebuild a hash: 0 in the normal flow (tests and logs use it). */
  rehashedBytes = 0;
  /**
   * Uploads whose last write ran out of space (id -> when). @tus/server may report such a PATCH
   * as "aborted" (its pipeline sees the early end before our error), so the response is decided
   * from here too; cleared by the next successful write.
   */
  private readonly storageFull = new Map<string, number>();

  /**
   * Called when the first body byte of a write (a PATCH, or a creation that carries data) reaches
   * the store: benchmarks measure "first byte on the wire" against it (tus.ts logs it at debug).
   */
  onBodyStart?: (id: string, offset: number) => void;

  /** True when the last write of this upload failed for lack of space (see storageFull). */
  lastWriteHitFullDisk(id: string): boolean {
    return this.storageFull.has(id);
  }

  /**
   * @param onCreateFailed called with the id when creating an upload's file or `.json` record
   *   failed (a full disk): the caller forgets the upload it already recorded.
   */
  constructor(options: ConstructorParameters<typeof FileStore>[0], private readonly onCreateFailed?: (id: string) => void) {
    super(options);
  }

  override async create(file: Upload): Promise<Upload> {
    try {
      return await super.create(file);
    } catch (e) {
      // Half-created (the empty file but no record, say): nothing may be left to expire later.
      await rm(this.fileOf(file.id), { force: true }).catch(() => undefined);
      await rm(`${this.fileOf(file.id)}.json`, { force: true }).catch(() => undefined);
      this.onCreateFailed?.(file.id);
      throw e;
    }
  }

  private fileOf(id: string): string {
    const dir = resolve(this.directory);
    const p = resolve(dir, id);
    // @tus/server already refuses ids with separators; this keeps the store safe on its own.
    if (!p.startsWith(dir + sep)) throw new Error('upload id outside the upload directory');
    return p;
  }

  /** SHA-256 of bytes [0, length) of the stored file, read back from disk. */
  private async hashPrefix(id: string, length: number): Promise<Hash> {
    const hash = createHash('sha256');
    if (length === 0) return hash;
    let read = 0;
    for await (const chunk of createReadStream(this.fileOf(id), { start: 0, end: length - 1, highWaterMark: 4 * 1024 * 1024 })) {
      hash.update(chunk as Buffer);
      read += (chunk as Buffer).length;
    }
    this.rehashedBytes += read;
    if (read !== length) throw new Error(`upload file is ${read} bytes, expected at least ${length}`);
    return hash;
  }

  override async write(readable: IncomingMessage | Readable, id: string, offset: number): Promise<number> {
    // Taken out of the map for the duration: if this write fails, nothing stale is left behind.
    let state = this.running.get(id);
    this.running.delete(id);
    if (!state || state.offset !== offset) state = { hash: await this.hashPrefix(id, offset), offset };
    const { hash } = state;
    let hashed = 0;
    const onBodyStart = this.onBodyStart;
    // Bytes are hashed on their way to the file, in order.
    const tapped = Readable.from(
      (async function* () {
        for await (const chunk of readable) {
          const b = chunk as Buffer;
          if (hashed === 0 && b.length > 0) onBodyStart?.(id, offset);
          hash.update(b);
          hashed += b.length;
          yield b;
        }
      })(),
      { objectMode: false },
    );
    // The file store's own write() turns every failure into a generic 500 (and the pipeline around
    // it into 400 "aborted"): written here so a full disk keeps its errno and can answer 507.
    let end: number;
    const file = createWriteStream(this.fileOf(id), { flags: 'r+', start: offset });
    try {
      await pipeline(tapped, file);
      end = offset + hashed;
    } catch (e) {
      // pipeline() can reject while a chunk is still being written: wait until the file is closed,
      // so the size the client is told next (HEAD) no longer moves and the next write starts clean.
      if (!file.closed) await once(file, 'close').catch(() => undefined);
      const full = storageFailureOf(e) === 'full';
      if (full) this.storageFull.set(id, Date.now());
      throw full ? new SlideError('QUOTA', 'the server has run out of storage space', { cause: e }) : e;
    }
    this.storageFull.delete(id);
    // The pipeline resolved only after the write stream finished, so every hashed byte is on disk;
    // still, keep the hash only when the sizes agree exactly.
    const size = await stat(this.fileOf(id)).then((s) => s.size, () => -1);
    if (end === offset + hashed && size === end) this.running.set(id, { hash, offset: end });
    return end;
  }

  /**
   * SHA-256 (hex) of the finished upload's `size` bytes. Normally just finalises the running hash;
   * without one (restart, a failed write, a concurrent zero-byte PATCH) it re-reads the file.
   */
  async sha256(id: string, size: number): Promise<string> {
    const state = this.running.get(id);
    this.running.delete(id);
    if (state && state.offset === size) return state.hash.digest('hex');
    return (await this.hashPrefix(id, size)).digest('hex');
  }

  /** True while a running hash is held for the upload (tests). */
  hasRunningHash(id: string): boolean {
    return this.running.has(id);
  }

  override async remove(id: string): Promise<void> {
    this.running.delete(id);
    this.storageFull.delete(id);
    await super.remove(id);
  }
}
