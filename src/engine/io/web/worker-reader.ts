import { SlideError } from '../../../shared/errors.ts';
import type { ByteSource } from '../byte-source.ts';
import { BlobSource } from './blob-source.ts';

/** Messages to and from the reading role of src/workers/hash.worker.ts. */
export type ReadRequest =
  | { type: 'open'; id: number; blob: Blob }
  /** Read [offset, offset + length) of blob `id` into `buffer` (transferred both ways). */
  | { type: 'read'; id: number; req: number; offset: number; length: number; buffer: ArrayBuffer };
export type ReadReply = { type: 'read'; req: number; buffer: ArrayBuffer; length: number } | { type: 'read-error'; req: number; message: string };

/** Reads at least this long go to the reading worker; parsers' small reads stay here. */
const OFF_THREAD_MIN = 1024 * 1024;

/**
 * Buffers a source cycles through: the bytes of a big read stay valid until RING - 1 more big
 * reads of that source have been issued. The apply loop holds one chunk and prefetches the next,
 * and is done with a chunk (written, swept, copied by the hasher) before it asks for the one after
 * next, so 3 leaves a spare. Reusing buffers keeps memory flat: a fresh 8 MiB buffer per read is
 * freed only when the GC gets to it, which let the renderer grow by 90-140 MiB.
 */
const RING = 3;

/**
 * Reads big Blob slices in a helper worker (the hash worker's script in its reading role) and
 * transfers the bytes here. Why: Blob.arrayBuffer() fills its buffer from a data pipe whose
 * chunks are tasks on the reading thread, so on the engine thread a read makes progress only
 * while that thread is idle. The engine thread is mostly busy in the synchronous OPFS write and
 * the PHI sweep, so its "prefetch" barely ran; in a worker of its own the next slice really is
 * read while this thread writes. The transfer is zero-copy.
 */
export class WorkerBlobReader {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (b: Uint8Array) => void; reject: (e: unknown) => void; name: string }>();
  private nextReq = 1;
  private nextBlob = 1;
  private readonly blobIds = new WeakMap<Blob, number>();
  private failure: SlideError | undefined;

  private constructor(worker: Worker) {
    this.worker = worker;
    worker.onmessage = (ev: MessageEvent<ReadReply>) => {
      const m = ev.data;
      const p = this.pending.get(m.req);
      if (!p) return;
      this.pending.delete(m.req);
      if (m.type === 'read') p.resolve(new Uint8Array(m.buffer, 0, m.length));
      else p.reject(new SlideError('IO', `${p.name}: the file can no longer be read (moved or changed?)`, { detail: m.message }));
    };
    worker.onerror = (ev) => {
      ev.preventDefault();
      this.fail(ev.message || 'it could not be started');
    };
    worker.onmessageerror = () => this.fail('a message could not be read');
  }

  /** A reader, or null where a worker cannot be started here (no nested workers): read in place. */
  static start(url: URL): WorkerBlobReader | null {
    try {
      return new WorkerBlobReader(new Worker(url, { type: 'module' }));
    } catch {
      return null;
    }
  }

  private fail(why: string): void {
    this.failure ??= new SlideError('INTERNAL', `the reading worker failed (${why})`);
    for (const p of this.pending.values()) p.reject(this.failure);
    this.pending.clear();
  }

  /** Read into `buffer` (transferred away; the bytes come back in it, or in a new one). */
  read(blob: Blob, name: string, offset: number, end: number, buffer: ArrayBuffer): Promise<Uint8Array> {
    if (this.failure) return Promise.reject(this.failure);
    let id = this.blobIds.get(blob);
    if (id === undefined) {
      id = this.nextBlob++;
      this.blobIds.set(blob, id);
      const open: ReadRequest = { type: 'open', id, blob };
      this.worker.postMessage(open);
    }
    const req = this.nextReq++;
    return new Promise<Uint8Array>((resolve, reject) => {
      this.pending.set(req, { resolve, reject, name });
      const msg: ReadRequest = { type: 'read', id: id!, req, offset, length: end - offset, buffer };
      this.worker.postMessage(msg, [buffer]);
    });
  }

  dispose(): void {
    this.fail('it was stopped');
    this.worker.terminate();
  }
}

/**
 * A BlobSource whose big reads go through a WorkerBlobReader (same bytes, other thread), into a
 * ring of RING reused buffers: a big read's bytes are valid until RING - 1 further big reads have
 * been issued (then its buffer is lent to the reader again). Made for one sequential pass.
 */
export class OffThreadBlobSource implements ByteSource {
  readonly size: number;
  readonly name: string;
  private readonly ring: (ArrayBuffer | undefined)[] = [];
  private turn = 0;
  constructor(private readonly inner: BlobSource, private readonly reader: WorkerBlobReader) {
    this.size = inner.size;
    this.name = inner.name;
  }

  async read(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array> {
    if (length < OFF_THREAD_MIN) return this.inner.read(offset, length, signal);
    if (signal?.aborted) throw new SlideError('ABORTED', 'cancelled');
    const end = Math.min(this.size, offset + length);
    if (offset >= end) return new Uint8Array(0);
    const slot = this.turn++ % RING;
    const old = this.ring[slot];
    this.ring[slot] = undefined;
    const buffer = old && old.byteLength >= end - offset ? old : new ArrayBuffer(end - offset);
    const bytes = await this.reader.read(this.inner.blob, this.name, offset, end, buffer);
    this.ring[slot] = bytes.buffer as ArrayBuffer;
    return bytes;
  }
}

/**
 * The parts of a slide with their Blob-backed ones read off this thread, for one long sequential
 * pass (a redaction). dispose() stops the reading worker.
 */
export function offThreadSources(parts: ByteSource[], url: URL): { sources: ByteSource[]; dispose: () => void } {
  if (!parts.some((p) => p instanceof BlobSource)) return { sources: parts, dispose: () => {} };
  const reader = WorkerBlobReader.start(url);
  if (!reader) return { sources: parts, dispose: () => {} };
  return {
    sources: parts.map((p) => (p instanceof BlobSource ? new OffThreadBlobSource(p, reader) : p)),
    dispose: () => reader.dispose(),
  };
}
