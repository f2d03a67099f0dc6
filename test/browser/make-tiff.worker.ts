/// <reference lib="webworker" />
/**
 * Test-only worker: writes a generated slide into OPFS with a sync access handle. The file is
 * extended with truncate() (zeros) and only headers, IFDs, values and real tiles are written, so a
 * 4.5 GiB input costs seconds. Every write()'s return value is checked.
 */
import { generateSlide, type GenOptions } from '../fixtures/generate-tiff.ts';
import { openSyncHandle, writeAll } from './opfs-sync.ts';

self.onmessage = async (ev: MessageEvent<{ dir: string; name: string; opts: GenOptions }>) => {
  try {
    const { dir, name, opts } = ev.data;
    const h = await openSyncHandle(`${dir}/${name}`);
    try {
      const g = generateSlide(opts);
      h.truncate(g.layout.size);
      if (h.getSize() !== g.layout.size) throw new Error(`truncate gave ${h.getSize()} bytes, wanted ${g.layout.size}`);
      for (const piece of g.layout.pieces) writeAll(h, piece.bytes, piece.offset);
      h.flush();
      postMessage({ ok: true, size: g.layout.size, phi: g.phi });
    } finally {
      h.close();
    }
  } catch (e) {
    postMessage({ ok: false, error: String(e) });
  }
};
