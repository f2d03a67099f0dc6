import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { SlideError } from '../../../shared/errors.ts';
import type { Hasher, HasherFactory } from '../../redact/sha256.ts';

/** node:crypto SHA-256 on the calling thread. */
export const nodeSha256: HasherFactory = (): Hasher => {
  const h = createHash('sha256');
  return {
    update: (bytes) => void h.update(bytes),
    digestHex: () => h.digest('hex'),
  };
};

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const h = require('node:crypto').createHash('sha256');
parentPort.on('message', (m) => {
  if (m === 'digest') { parentPort.postMessage({ digest: h.digest('hex') }); return; }
  h.update(new Uint8Array(m.buffer, 0, m.length));
  parentPort.postMessage({ done: true });
});`;

/** Chunks queued to the hashing thread before update() makes the caller wait. */
const MAX_IN_FLIGHT = 3;

/**
 * node:crypto SHA-256 on a worker thread, so hashing a multi-GB output overlaps the copy and the
 * PHI sweep instead of adding to them. Each chunk is copied into one of MAX_IN_FLIGHT shared
 * buffers (the sink may still be writing the original); the worker hashes them in order and
 * reports each done, so memory stays fixed (a fresh buffer per chunk made RSS grow by 200+ MiB
 * because the worker's GC frees transferred buffers late).
 */
export const threadedNodeSha256: HasherFactory = (): Hasher => {
  const worker = new Worker(WORKER_SOURCE, { eval: true });
  worker.unref();
  let inFlight = 0;
  let waiter: (() => void) | undefined;
  let digest: { resolve: (hex: string) => void; reject: (e: unknown) => void } | undefined;
  let failure: unknown;
  let disposed = false;
  const slots: SharedArrayBuffer[] = [];
  let seq = 0;
  const wake = () => {
    waiter?.();
    waiter = undefined;
  };
  worker.on('message', (m: { done?: true; digest?: string }) => {
    if (m.done) {
      inFlight--;
      wake();
    } else if (m.digest !== undefined) digest?.resolve(m.digest);
  });
  worker.on('error', (e) => {
    failure ??= e;
    wake();
    digest?.reject(failure);
  });
  return {
    async update(bytes) {
      if (failure) throw failure;
      // Slots are freed in order, so with fewer than MAX_IN_FLIGHT queued this one is free.
      const i = seq++ % MAX_IN_FLIGHT;
      if (!slots[i] || slots[i]!.byteLength < bytes.length) slots[i] = new SharedArrayBuffer(bytes.length);
      new Uint8Array(slots[i]!, 0, bytes.length).set(bytes);
      inFlight++;
      worker.postMessage({ buffer: slots[i], length: bytes.length });
      while (inFlight >= MAX_IN_FLIGHT && !failure) await new Promise<void>((r) => (waiter = r));
      if (failure) throw failure;
    },
    async digestHex() {
      if (failure) throw failure;
      try {
        return await new Promise<string>((resolve, reject) => {
          digest = { resolve, reject };
          worker.postMessage('digest');
        });
      } finally {
        disposed = true;
        await worker.terminate();
      }
    },
    dispose() {
      // A cancelled or failed redaction abandons the hasher: stop the thread (and anyone waiting).
      if (disposed) return;
      disposed = true;
      failure ??= new SlideError('ABORTED', 'hashing stopped');
      wake();
      digest?.reject(failure);
      void worker.terminate();
    },
  };
};
