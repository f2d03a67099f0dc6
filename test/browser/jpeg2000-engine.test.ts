/**
 * Issue 12: JPEG 2000 slides in the engine worker in Chromium — the WebAssembly decoder loads
 * lazily inside the worker (its .wasm fetched from node_modules here, from codecs/ in the built
 * app), thumbnails are drawn from JPEG 2000 tiles, and tileBitmap hands out OpenSlide's pixels.
 * Real files: the TCGA SVS (Aperio 33005) and Google's JPEG 2000 DICOM, served from the shared
 * fixtures outside the root (web-test-runner's outside-root path).
 */
import { wrap, type Remote } from 'comlink';
import { registerSlideErrorTransfer } from '../../src/shared/comlink-errors.ts';
import type { EngineApi } from '../../src/workers/engine-api.ts';

declare const describe: (name: string, fn: () => void) => void;
declare const it: (name: string, fn: () => Promise<void>) => void;
declare const after: (fn: () => Promise<void>) => void;

function check(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

/** /work/main/../shared/fixtures, as @web/dev-server serves paths one level above its root. */
const FIXTURES = '/__wds-outside-root__/1/shared/fixtures';

async function fixtureFile(rel: string): Promise<File> {
  const res = await fetch(`${FIXTURES}/${rel}`);
  check(res.ok, `fetching ${rel}: ${res.status}`);
  return new File([await res.blob()], rel.split('/').pop()!);
}

function pixels(bitmap: ImageBitmap): Uint8ClampedArray {
  const c = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = c.getContext('2d')!;
  ctx.drawImage(bitmap, 0, 0);
  return ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
}

/** Mean and standard deviation of the RGB channels: a black or blank image fails both bounds. */
function stats(px: Uint8ClampedArray): { mean: number; sd: number } {
  let sum = 0;
  let sq = 0;
  let n = 0;
  for (let i = 0; i < px.length; i += 4) {
    for (let c = 0; c < 3; c++) {
      sum += px[i + c]!;
      sq += px[i + c]! ** 2;
      n++;
    }
  }
  const mean = sum / n;
  return { mean, sd: Math.sqrt(sq / n - mean * mean) };
}

describe('JPEG 2000 in the engine worker', () => {
  registerSlideErrorTransfer();
  const worker = new Worker(new URL('/src/workers/engine.worker.ts', location.origin), { type: 'module' });
  const engine: Remote<EngineApi> = wrap<EngineApi>(worker);
  after(async () => worker.terminate());

  it('TCGA SVS (33005): a thumbnail drawn from a JPEG 2000 level is neither missing nor black', async () => {
    const [r] = await engine.inspect([await fixtureFile('histolab/tcga-cr-7395-01a-01-ts1.svs')]);
    check(r?.ok, `inspect: ${JSON.stringify(r)}`);
    // The smallest level (not the file's JPEG thumbnail), so every drawn tile is JPEG 2000.
    const level = r.slide.images.filter((i) => i.role === 'level').sort((a, b) => a.width - b.width)[0]!;
    check(level.compression === 'JPEG 2000', `level compression ${level.compression}`);
    const thumb = await engine.thumbnail(r.slide.key, 512, level.id);
    check(thumb, 'no thumbnail');
    const s = stats(pixels(thumb.bitmap));
    check(s.mean > 60 && s.mean < 250 && s.sd > 5, `thumbnail stats ${JSON.stringify(s)}`);

    // Tile (3,2) of level 0 as OpenSlide 3.4.1 reads it (sums of R, G, B and four pixels).
    const level0 = r.slide.images.find((i) => i.role === 'level' && i.level === 0)!;
    const px = pixels(await engine.tileBitmap(r.slide.key, level0.id, 3, 2));
    check(px.length === 256 * 256 * 4, 'tile size');
    const sums = [0, 0, 0];
    for (let i = 0; i < px.length; i += 4) for (let c = 0; c < 3; c++) sums[c] += px[i + c]!;
    check(JSON.stringify(sums) === JSON.stringify([15842182, 15517124, 15716532]), `tile sums ${sums}`);
    const at = (x: number, y: number) => [...px.subarray((y * 256 + x) * 4, (y * 256 + x) * 4 + 3)];
    check(JSON.stringify([at(0, 0), at(17, 200), at(128, 128), at(255, 255)]) === JSON.stringify([[242, 239, 240], [240, 235, 238], [241, 236, 240], [247, 209, 225]]), 'tile pixels differ from OpenSlide');
    await engine.close(r.slide.key);
  });

  it('Google JPEG 2000 DICOM: the thumbnail is neither missing nor black', async () => {
    const [r] = await engine.inspect([await fixtureFile('google-dicom/camelyon-jpeg2000.dcm')]);
    check(r?.ok, `inspect: ${JSON.stringify(r)}`);
    const thumb = await engine.thumbnail(r.slide.key, 256);
    check(thumb, 'no thumbnail');
    const s = stats(pixels(thumb.bitmap));
    check(s.mean > 60 && s.mean < 250 && s.sd > 5, `thumbnail stats ${JSON.stringify(s)}`);
    await engine.close(r.slide.key);
  });
});
