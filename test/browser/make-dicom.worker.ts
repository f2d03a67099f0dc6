/// <reference lib="webworker" />
/**
 * Test-only worker: writes the large DICOM instance of make-dicom.ts into OPFS through a sync
 * access handle: the header, then the pixel data in 8 MiB chunks of noise (each chunk distinct:
 * its first word is its index), then the marked frames and the trailing element. Every write()'s
 * return value is checked (Chromium returns a short count instead of throwing when it runs out).
 */
import { largeDicomLayout, type LargeDicomOptions } from '../fixtures/dicom/large-layout.ts';
import { openSyncHandle, writeAll } from './opfs-sync.ts';

self.onmessage = async (ev: MessageEvent<{ dir: string; name: string; opts: LargeDicomOptions }>) => {
  try {
    const { dir, name, opts } = ev.data;
    const h = await openSyncHandle(`${dir}/${name}`);
    try {
      const l = largeDicomLayout(opts);
      h.truncate(0);
      const chunk = new Uint8Array(8 * 1024 * 1024);
      const words = new Uint32Array(chunk.buffer);
      let x = 0x2545f491;
      for (let i = 0; i < words.length; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        words[i] = x;
      }
      writeAll(h, l.pieces[0]!.bytes, 0);
      for (let at = 0, i = 0; at < l.pixelBytes; at += chunk.length, i++) {
        words[0] = i;
        writeAll(h, chunk.subarray(0, Math.min(chunk.length, l.pixelBytes - at)), l.pixelStart + at);
      }
      for (const piece of l.pieces.slice(1)) writeAll(h, piece.bytes, piece.offset);
      h.flush();
      if (h.getSize() !== l.size) throw new Error(`wrote ${h.getSize()} bytes, wanted ${l.size}`);
      postMessage({ ok: true, size: l.size, pixelStart: l.pixelStart, pixelBytes: l.pixelBytes, frameBytes: l.frameBytes, marked: l.marked, phi: l.phi });
    } finally {
      h.close();
    }
  } catch (e) {
    postMessage({ ok: false, error: String(e) });
  }
};
