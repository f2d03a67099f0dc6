/**
 * Barcode search in a Chromium worker (driven by test/bench/barcode.bench.ts): per slide, the
 * product's findSlideBarcodes with the worker's JPEG decoder (as engineApi.barcodes runs it), and
 * as the baseline the same label (or macro) decoded to RGBA only (imageRgba, what any use of the
 * label's pixels costs). The zxing .wasm comes from codecs/ beside this bundle, as in the app.
 */
import { findSlideBarcodes } from '../../../src/engine/barcode/index.ts';
import { imageRgba } from '../../../src/engine/barcode/image-rgba.ts';
import { openGroups } from '../../../src/workers/file-groups.ts';
import { groupMiraxFiles } from '../../../src/workers/mirax-grouper.ts';
import { decodeJpegBitmap } from '../../../src/workers/jpeg-bitmap.ts';

interface Job {
  slides: { name: string; files: { url: string; path: string }[] }[];
  rounds: number;
}

interface SlideResult {
  name: string;
  image: string;
  pixels: number;
  found: number;
  imagesSearched: number;
  searchMs: number[];
  rgbaMs: number[];
  firstMs: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function run({ slides, rounds }: Job): Promise<SlideResult[]> {
  const out: SlideResult[] = [];
  for (const s of slides) {
    const files = await Promise.all(s.files.map(async (f) => new File([await (await fetch(f.url)).blob()], f.path.split('/').pop()!)));
    const paths = new Map(files.map((f, i) => [f, s.files[i]!.path]));
    const [g] = await openGroups(files, paths, [groupMiraxFiles]);
    if (!g || 'error' in g) throw new Error(`${s.name}: ${g && 'error' in g ? g.error.message : 'no slide'}`);
    const slide = g.slide;
    // The first search also loads the reader (its .wasm): reported apart, not in the medians.
    let t0 = performance.now();
    const first = await findSlideBarcodes(slide, { decodeJpeg: decodeJpegBitmap });
    const firstMs = performance.now() - t0;
    // Baseline: the images the search looked at — the label(s), and the macro(s) when nothing
    // was found on a label.
    const onLabel = first.barcodes.some((b) => b.source === 'label');
    const images = [...slide.images.filter((i) => i.role === 'label'), ...(onLabel ? [] : slide.images.filter((i) => i.role === 'overview'))];
    const searchMs: number[] = [];
    const rgbaMs: number[] = [];
    for (let r = 0; r < rounds; r++) {
      t0 = performance.now();
      for (const img of images) await imageRgba(slide, img, decodeJpegBitmap);
      rgbaMs.push(performance.now() - t0);
      t0 = performance.now();
      await findSlideBarcodes(slide, { decodeJpeg: decodeJpegBitmap });
      searchMs.push(performance.now() - t0);
    }
    out.push({
      name: s.name, image: images.map((i) => i.role).join(' + '), pixels: images.reduce((a, i) => a + i.width * i.height, 0), found: first.barcodes.filter((b) => b.source !== 'metadata').length,
      imagesSearched: first.imagesSearched, searchMs, rgbaMs, firstMs,
    });
  }
  return out;
}

self.onmessage = (e: MessageEvent<Job>) => {
  run(e.data).then(
    (result) => self.postMessage({ ok: true, result, medians: result.map((r) => ({ search: median(r.searchMs), rgba: median(r.rgbaMs) })) }),
    (err: unknown) => self.postMessage({ ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
};
