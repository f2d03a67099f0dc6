/// <reference lib="webworker" />
/**
 * The hashing thread of a browser redaction (see src/engine/io/web/worker-hash.ts): SHA-256 of
 * the chunks it is sent, in order. Each chunk's buffer goes back to the sender to be reused, so
 * memory stays at a few chunks however big the output.
 */
import { Sha256 } from '../engine/redact/sha256.ts';
import type { HashReply, HashRequest } from '../engine/io/web/worker-hash.ts';

let hash = new Sha256();

self.onmessage = (ev: MessageEvent<HashRequest>) => {
  const m = ev.data;
  try {
    if (m.type === 'update') {
      hash.update(new Uint8Array(m.buffer, 0, m.length));
      const reply: HashReply = { type: 'done', buffer: m.buffer };
      postMessage(reply, [m.buffer]);
    } else {
      const reply: HashReply = { type: 'digest', hex: hash.digestHex() };
      hash = new Sha256();
      postMessage(reply);
    }
  } catch (e) {
    const reply: HashReply = { type: 'error', message: e instanceof Error ? e.message : String(e) };
    postMessage(reply);
  }
};
