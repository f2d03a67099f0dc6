import { SlideError } from '../../../shared/errors.ts';
import { createSha256, type Hasher, type HasherFactory } from '../../redact/sha256.ts';

/** Messages to and from src/workers/hash.worker.ts. */
export type HashRequest = { type: 'update'; buffer: ArrayBuffer; length: number } | { type: 'digest' };
export type HashReply = { type: 'done'; buffer: ArrayBuffer } | { type: 'digest'; hex: string } | { type: 'error'; message: string };

/** Chunks queued to the hashing worker before update() makes the caller wait. */
const MAX_IN_FLIGHT = 3;
/** The largest piece copied to the hashing worker at once. */
const PIECE = 8 * 1024 * 1024;

/**
 * SHA-256 in a dedicated worker, so in the browser the hash (the slowest stage) runs on the second
 * core while the engine worker reads, patches, sweeps and writes: the browser version of
 * src/engine/io/node/node-hash.ts. There is no SharedArrayBuffer without cross-origin isolation,
 * so each chunk is copied into one of MAX_IN_FLIGHT buffers that are transferred to the worker and
 * back (the caller keeps its bytes: a sink or a source may still hold them). The copy costs ~1 ms
 * per 8 MiB. Where a worker cannot be started (no nested workers), hashing stays on this thread.
 *
 * `url` is the hash worker's script (built next to the engine worker as hash.worker.js).
 */
export function workerSha256(url: URL): HasherFactory {
  return (): Hasher => {
    let worker: Worker;
    try {
      worker = new Worker(url, { type: 'module' });
    } catch {
      return createSha256();
    }
    let inFlight = 0;
    let failure: SlideError | undefined;
    let waiter: (() => void) | undefined;
    let digest: { resolve: (hex: string) => void; reject: (e: unknown) => void } | undefined;
    const free: ArrayBuffer[] = [];
    const fail = (why: string) => {
      failure ??= new SlideError('INTERNAL', `the hashing worker failed (${why})`);
      waiter?.();
      digest?.reject(failure);
    };
    worker.onmessage = (ev: MessageEvent<HashReply>) => {
      const m = ev.data;
      if (m.type === 'done') {
        inFlight--;
        free.push(m.buffer);
        waiter?.();
      } else if (m.type === 'digest') digest?.resolve(m.hex);
      else fail(m.message);
    };
    worker.onerror = (ev) => {
      ev.preventDefault();
      fail(ev.message || 'it could not be started');
    };
    worker.onmessageerror = () => fail('a message could not be read');
    const settle = () => new Promise<void>((r) => (waiter = r)).finally(() => (waiter = undefined));

    return {
      async update(bytes) {
        // In pieces of at most PIECE: the buffers in flight stay MAX_IN_FLIGHT × PIECE whatever
        // the caller's chunk size (a zero-copy upload hashes 32 MiB chunks: whole-chunk copies
        // kept up to 4 × 32 MiB alive in the renderer). Empty bytes change no digest.
        if (failure) throw failure;
        for (let at = 0; at < bytes.length; at += PIECE) {
          if (failure) throw failure;
          const piece = bytes.subarray(at, Math.min(bytes.length, at + PIECE));
          let buffer = free.pop();
          if (!buffer || buffer.byteLength < piece.length) buffer = new ArrayBuffer(piece.length);
          new Uint8Array(buffer, 0, piece.length).set(piece);
          const msg: HashRequest = { type: 'update', buffer, length: piece.length };
          worker.postMessage(msg, [buffer]);
          inFlight++;
          while (inFlight >= MAX_IN_FLIGHT && !failure) await settle();
          if (failure) throw failure;
        }
      },
      async digestHex() {
        try {
          if (failure) throw failure;
          return await new Promise<string>((resolve, reject) => {
            digest = { resolve, reject };
            const msg: HashRequest = { type: 'digest' };
            worker.postMessage(msg);
          });
        } finally {
          worker.terminate();
        }
      },
      dispose() {
        worker.terminate();
      },
    };
  };
}
