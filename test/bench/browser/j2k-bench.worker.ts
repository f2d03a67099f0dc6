/**
 * JPEG 2000 vs JPEG tile decoding in a Chromium worker (driven by test/bench/jpeg2000.bench.ts):
 * the product's decodeTile (WebAssembly OpenJPEG, loaded from codecs/ as in the built app) then
 * an ImageBitmap, as tileBitmap does it; JPEG: the browser's decoder on JPEGs of the very same
 * pixels (encoded here, quality 0.9, before any timing), createImageBitmap as tileBitmap does.
 */
import { decodeTile } from '../../../src/engine/codecs/decode-tile.ts';

interface Job {
  tiles: Uint8Array[];
  size: number;
  rounds: number;
}

async function bitmapFromJ2k(bytes: Uint8Array, size: number): Promise<ImageBitmap> {
  const d = await decodeTile({ codec: 'image/jp2', bytes, width: size, height: size });
  return createImageBitmap(new ImageData(d.rgba as Uint8ClampedArray<ArrayBuffer>, d.width, d.height));
}

async function run({ tiles, size, rounds }: Job): Promise<Record<string, number>> {
  // Warm-up: loads the codec, and gives the JPEGs of the same pixels.
  const jpegs: Blob[] = [];
  const canvas = new OffscreenCanvas(size, size);
  const ctx = canvas.getContext('2d')!;
  for (const t of tiles) {
    const bmp = await bitmapFromJ2k(t, size);
    ctx.drawImage(bmp, 0, 0);
    bmp.close();
    jpegs.push(await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.9 }));
  }
  for (const j of jpegs) (await createImageBitmap(j)).close();
  let j2kMs = 0;
  let jpegMs = 0;
  for (let r = 0; r < rounds; r++) {
    let t0 = performance.now();
    for (const t of tiles) (await bitmapFromJ2k(t, size)).close();
    j2kMs += performance.now() - t0;
    t0 = performance.now();
    for (const j of jpegs) (await createImageBitmap(j)).close();
    jpegMs += performance.now() - t0;
  }
  const n = tiles.length * rounds;
  return {
    j2kTilesPerS: (n / j2kMs) * 1000,
    jpegTilesPerS: (n / jpegMs) * 1000,
    j2kBytes: tiles.reduce((a, t) => a + t.length, 0) / tiles.length,
    jpegBytes: jpegs.reduce((a, j) => a + j.size, 0) / jpegs.length,
  };
}

self.onmessage = async (e: MessageEvent<Job>) => {
  try {
    self.postMessage({ ok: true, result: await run(e.data) });
  } catch (err) {
    self.postMessage({ ok: false, error: String(err) });
  }
};
