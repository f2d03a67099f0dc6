/// <reference lib="webworker" />
/**
 * Test-only worker: writes a generated slide into OPFS with a sync access handle. The file is
 * extended with truncate() (zeros) and only headers, IFDs, values and real tiles are written, so a
 * 4.5 GiB input costs seconds. Every write()'s return value is checked.
 */
import { generateSlide, type GenOptions } from '../fixtures/generate-tiff.ts';

interface SyncHandle {
  write(b: Uint8Array, o: { at: number }): number;
  truncate(n: number): void;
  getSize(): number;
  flush(): void;
  close(): void;
}

self.onmessage = async (ev: MessageEvent<{ dir: string; name: string; opts: GenOptions }>) => {
  try {
    const { dir, name, opts } = ev.data;
    let d = await navigator.storage.getDirectory();
    for (const p of dir.split('/').filter(Boolean)) d = await d.getDirectoryHandle(p, { create: true });
    const fh = await d.getFileHandle(name, { create: true });
    const h = (await (fh as unknown as { createSyncAccessHandle(): Promise<SyncHandle> }).createSyncAccessHandle());
    try {
      const g = generateSlide(opts);
      h.truncate(g.layout.size);
      if (h.getSize() !== g.layout.size) throw new Error(`truncate gave ${h.getSize()} bytes, wanted ${g.layout.size}`);
      for (const piece of g.layout.pieces) {
        let done = 0;
        while (done < piece.bytes.length) {
          const n = h.write(piece.bytes.subarray(done), { at: piece.offset + done });
          if (n <= 0) throw new Error(`OPFS write returned ${n} at ${piece.offset + done}`);
          done += n;
        }
      }
      h.flush();
      postMessage({ ok: true, size: g.layout.size, phi: g.phi });
    } finally {
      h.close();
    }
  } catch (e) {
    postMessage({ ok: false, error: String(e) });
  }
};
