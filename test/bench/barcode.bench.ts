/**
 * Barcode search per label in the engine worker, in Chromium (`npm run bench barcode`), issue 14:
 * for each slide the product's findSlideBarcodes as engineApi.barcodes runs it (browser JPEG
 * decoder, zxing-wasm from codecs/ beside the worker bundle), next to a baseline measured in the
 * same run on the same image: decoding the label (or macro) to RGBA only. Ratio = search ms ÷
 * RGBA-only ms. Slides: generated SVS with a zint-rendered code on the label (Code 128, Code 39,
 * DataMatrix, QR, PDF417), one with the code sideways on a JPEG macro and no label, a label with
 * no code (label + macro searched, contrast-stretch passes included: the worst case), and the real
 * MIRAX sample (dim label photograph: found only in the stretched pass). Every request the page
 * and its workers make is recorded: none may go to another host (zxing's default is a CDN).
 * Debian Chromium through playwright-core. WSI_BARCODE_ROUNDS (default 7).
 */
import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { chromium } from 'playwright-core';
import { writeSvsWithBarcode, type Symbology } from '../fixtures/barcode-slides.ts';
import type { BenchRow } from './run.ts';
import { bundleForBrowser, serveStatic } from './support/bench-page.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const ROUNDS = Number(process.env.WSI_BARCODE_ROUNDS ?? 7);
const MIRAX = join(root, '../shared/fixtures/mirax');

async function build(outdir: string): Promise<void> {
  await bundleForBrowser({ 'barcode-bench.worker': 'test/bench/browser/barcode-bench.worker.ts' }, outdir);
  // As esbuild.config.mjs lays it out: the reader's .wasm in codecs/ beside the worker.
  await mkdir(join(outdir, 'codecs'));
  await cp(join(root, 'node_modules/zxing-wasm/dist/reader/zxing_reader.wasm'), join(outdir, 'codecs/zxing_reader.wasm'));
  await writeFile(join(outdir, 'index.html'), '<!doctype html><meta charset="utf-8"><title>barcode bench</title>');
}

/** One slide's timings, as barcode-bench.worker.ts posts them (that file is compiled for workers). */
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

const LABELS: [string, Symbology][] = [['Code 128', 'code128'], ['Code 39', 'code39'], ['DataMatrix', 'datamatrix'], ['QR', 'qr'], ['PDF417', 'pdf417']];

export async function run(): Promise<BenchRow[]> {
  const work = await mkdtemp(join(tmpdir(), 'wsi-barcode-bench-'));
  const slidesDir = join(work, 'slides');
  await mkdir(slidesDir);
  const server = await serveStatic({ '': work, slides: slidesDir, mirax: MIRAX });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    await build(work);
    const slides: { name: string; files: { url: string; path: string }[] }[] = [];
    for (const [name, symbology] of LABELS) {
      await writeSvsWithBarcode(join(slidesDir, `${symbology}.svs`), { text: 'S24-01234-A1', symbology, where: 'label' });
      slides.push({ name: `${name} label`, files: [{ url: `/slides/${symbology}.svs`, path: `${symbology}.svs` }] });
    }
    await writeSvsWithBarcode(join(slidesDir, 'macro.svs'), { text: 'S24-01234-A1', symbology: 'code128', where: 'macro' });
    slides.push({ name: 'Code 128 sideways on the macro, no label', files: [{ url: '/slides/macro.svs', path: 'macro.svs' }] });
    await writeSvsWithBarcode(join(slidesDir, 'blank.svs'), { where: 'label' });
    slides.push({ name: 'label without a code (label + macro)', files: [{ url: '/slides/blank.svs', path: 'blank.svs' }] });
    const miraxFiles = ['Mirax2-Fluorescence-2.mrxs', ...(await readdir(join(MIRAX, 'Mirax2-Fluorescence-2'))).sort().map((f) => `Mirax2-Fluorescence-2/${f}`)];
    slides.push({ name: 'real MIRAX label (Code 128)', files: miraxFiles.map((p) => ({ url: `/mirax/${p}`, path: `mx/${p}` })) });

    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
    const requests: string[] = [];
    try {
      const context = await browser.newContext();
      // Workers' requests included: every URL must be this server's.
      context.on('request', (r) => void requests.push(r.url()));
      const page = await context.newPage();
      await page.goto(`${origin}/`);
      const r = await page.evaluate(
        ([job]) =>
          new Promise<{ ok: boolean; error?: string; result?: SlideResult[]; medians?: { search: number; rgba: number }[] }>((resolve) => {
            type PageWorker = { onmessage: (e: { data: never }) => void; onerror: (e: { message: string }) => void; postMessage(m: unknown): void };
            const W = (globalThis as unknown as { Worker: new (url: string, o: object) => PageWorker }).Worker;
            const w = new W('./barcode-bench.worker.js', { type: 'module' });
            w.onmessage = (e) => resolve(e.data);
            w.onerror = (e) => resolve({ ok: false, error: e.message });
            w.postMessage(job);
          }),
        [{ slides, rounds: ROUNDS }] as const,
      );
      if (!r.ok || !r.result || !r.medians) throw new Error(`bench worker: ${r.error}`);
      const rows: BenchRow[] = [];
      const ratios: number[] = [];
      const labelMs: number[] = [];
      r.result.forEach((s, i) => {
        const m = r.medians![i]!;
        const expectFound = s.name.startsWith('label without') ? 0 : 1;
        rows.push(
          { bench: 'barcode', metric: `${s.name}: search (${s.image}, ${(s.pixels / 1e6).toFixed(2)} MP; ${s.imagesSearched} searched)`, value: m.search, unit: 'ms', target: `found ${expectFound}`, ok: s.found === expectFound },
          { bench: 'barcode', metric: `${s.name}: baseline, the same image(s) to RGBA only`, value: m.rgba, unit: 'ms' },
          { bench: 'barcode', metric: `${s.name}: ratio search / RGBA only`, value: m.search / m.rgba, unit: '×' },
        );
        if (i < LABELS.length) {
          ratios.push(m.search / m.rgba);
          labelMs.push(m.search);
        }
      });
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      rows.push(
        { bench: 'barcode', metric: 'generated labels: mean search per label', value: mean(labelMs), unit: 'ms' },
        { bench: 'barcode', metric: 'generated labels: mean ratio search / RGBA only', value: mean(ratios), unit: '×' },
        { bench: 'barcode', metric: 'first search (loads the reader .wasm, Code 128 label)', value: r.result[0]!.firstMs, unit: 'ms' },
      );
      const foreign = requests.filter((u) => !u.startsWith(`${origin}/`));
      rows.push({ bench: 'barcode', metric: 'requests to other hosts (CDN)', value: foreign.length, unit: 'requests', target: '0', ok: foreign.length === 0 });
      rows.push({ bench: 'barcode', metric: 'reader .wasm fetched from codecs/', value: requests.filter((u) => u === `${origin}/codecs/zxing_reader.wasm`).length, unit: 'requests', target: '1', ok: requests.includes(`${origin}/codecs/zxing_reader.wasm`) });
      return rows;
    } finally {
      await browser.close();
    }
  } finally {
    server.close();
    await rm(work, { recursive: true, force: true });
  }
}
