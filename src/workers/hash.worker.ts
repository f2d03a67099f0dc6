/// <reference lib="webworker" />
/**
 * The helper thread of a browser redaction, in one of two roles (one worker each):
 *  - hashing (src/engine/io/web/worker-hash.ts): SHA-256 of the chunks it is sent, in order. Each
 *    chunk's buffer goes back to the sender to be reused, so memory stays at a few chunks however
 *    big the output;
 *  - reading (src/engine/io/web/worker-reader.ts): Blob slices read here and transferred to the
 *    engine worker, so a read progresses while the engine thread is busy writing.
 * One script for both keeps the build at one extra worker file.
 */
import { Sha256 } from '../engine/redact/sha256.ts';
import type { HashReply, HashRequest } from '../engine/io/web/worker-hash.ts';
import type { ReadReply, ReadRequest } from '../engine/io/web/worker-reader.ts';

let hash: Sha256 | undefined;
const blobs = new Map<number, Blob>();

/**
 * Read a slice into the buffer the engine lent (BYOB: no new buffer per read), and send it back.
 * Fewer bytes than asked only at the end of the file (the caller checks).
 */
async function read(m: Extract<ReadRequest, { type: 'read' }>): Promise<void> {
  let buffer = m.buffer;
  let filled = 0;
  try {
    const blob = blobs.get(m.id);
    if (!blob) throw new Error('unknown blob');
    const reader = blob.slice(m.offset, m.offset + m.length).stream().getReader({ mode: 'byob' });
    try {
      while (filled < m.length) {
        const { value, done } = await reader.read(new Uint8Array(buffer, filled, m.length - filled));
        if (value) buffer = value.buffer as ArrayBuffer;
        if (done || !value) break;
        filled += value.byteLength;
      }
    } finally {
      reader.releaseLock();
    }
    const reply: ReadReply = { type: 'read', req: m.req, buffer, length: filled };
    postMessage(reply, [buffer]);
  } catch (e) {
    const reply: ReadReply = { type: 'read-error', req: m.req, message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
    postMessage(reply);
  }
}

self.onmessage = (ev: MessageEvent<HashRequest | ReadRequest>) => {
  const m = ev.data;
  if (m.type === 'open') return void blobs.set(m.id, m.blob);
  if (m.type === 'read') return void read(m);
  try {
    hash ??= new Sha256();
    if (m.type === 'update') {
      hash.update(new Uint8Array(m.buffer, 0, m.length));
      const reply: HashReply = { type: 'done', buffer: m.buffer };
      postMessage(reply, [m.buffer]);
    } else {
      const reply: HashReply = { type: 'digest', hex: hash.digestHex() };
      hash = undefined;
      postMessage(reply);
    }
  } catch (e) {
    const reply: HashReply = { type: 'error', message: e instanceof Error ? e.message : String(e) };
    postMessage(reply);
  }
};
