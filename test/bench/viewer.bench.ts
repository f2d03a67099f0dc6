/**
 * The viewer's first paint on a single-level slide (`npm run bench -- viewer`), issue 13: the
 * product's <wsi-viewer> and local-slide provider in Chromium (test/bench/browser/viewer-bench-
 * page.ts), on a generated Aperio SVS with one large level (no pyramid: the home view needs every
 * tile of the full image) and a thumbnail, opened with `fastFirstPaint` off and on, alternately,
 * in the same run. Reported: time to the first drawn pixels, to the whole home view covered, and
 * to every tile drawn (sharp), each with the ratio on/off (< 1: the placeholder helps); -1 = not
 * reached within WSI_VIEWER_TIMEOUT_MS (default 120 s). WSI_VIEWER_TILES (default 24x18) sets the
 * slide's size in tiles.
 * WSI_VIEWER_ROUNDS (default 1) pairs; the median of each is reported. Debian Chromium through
 * playwright-core.
 */
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { chromium } from 'playwright-core';
import { generateSlide } from '../fixtures/generate-tiff.ts';
import type { BenchRow } from './run.ts';
import { bundleForBrowser, serveStatic } from './support/bench-page.ts';

const ROUNDS = Number(process.env.WSI_VIEWER_ROUNDS ?? 1);
/** Level 0 in 256-pixel tiles: 24×18 tiles = 6137×4603 pixels, 432 tiles for the home view. */
const [ACROSS, DOWN] = (process.env.WSI_VIEWER_TILES ?? '24x18').split('x').map(Number) as [number, number];
const TIMEOUT_MS = Number(process.env.WSI_VIEWER_TIMEOUT_MS ?? 120_000);

async function build(outdir: string): Promise<void> {
  // Same worker entry names as esbuild.config.mjs: the engine client finds /engine.worker.js.
  await bundleForBrowser({ page: 'test/bench/browser/viewer-bench-page.ts', 'engine.worker': 'src/workers/engine.worker.ts', 'hash.worker': 'src/workers/hash.worker.ts' }, outdir);
  await writeFile(
    join(outdir, 'index.html'),
    '<!doctype html><meta charset="utf-8"><title>viewer bench</title><style>body{margin:0}wsi-viewer{width:1024px;height:700px}</style><script type="module" src="./page.js"></script>',
  );
}

/** The single-level slide, written piece by piece (its pixel data is generated, not stored). */
async function writeSlide(file: string): Promise<void> {
  const g = generateSlide({ kind: 'svs', compression: 'deflate', levels: 1, thumbnail: true, tilesAcross: ACROSS, tilesDown: DOWN });
  const h = await open(file, 'w');
  try {
    await h.truncate(g.layout.size);
    for (const p of g.layout.pieces) await h.write(p.bytes, 0, p.bytes.length, p.offset);
  } finally {
    await h.close();
  }
}

interface Run {
  firstPixels: number;
  covered: number;
  loaded: number;
  tilesDecoded: number;
  tilesAsked: number;
  tilesDone: number;
  tileCount: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export async function run(): Promise<BenchRow[]> {
  const work = await mkdtemp(join(tmpdir(), 'wsi-viewer-bench-'));
  const server = await serveStatic(work);
  try {
    const t0 = performance.now();
    await Promise.all([build(work), writeSlide(join(work, 'one-level.svs'))]);
    process.stderr.write(`  built the page and a ${ACROSS}×${DOWN}-tile single-level slide in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
    const runs: Record<'on' | 'off', Run[]> = { on: [], off: [] };
    try {
      for (let i = 0; i < ROUNDS; i++) {
        // Alternating, so a change in the machine's load hits both modes alike.
        for (const mode of i % 2 ? (['on', 'off'] as const) : (['off', 'on'] as const)) {
          const page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
          try {
            await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/?timeout=${TIMEOUT_MS}`);
            await page.waitForFunction('document.title === "ready"');
            page.setDefaultTimeout(TIMEOUT_MS + 60_000);
            const r = await page.evaluate(
              ([on]) => (globalThis as unknown as { viewerBench: { open(url: string, on: boolean): Promise<Run> } }).viewerBench.open('./one-level.svs', on),
              [mode === 'on'] as const,
            );
            process.stderr.write(`  fastFirstPaint ${mode}: first pixels ${r.firstPixels.toFixed(0)} ms, home view covered ${r.covered.toFixed(0)} ms, all tiles drawn ${r.loaded.toFixed(0)} ms (last tile decoded ${r.tilesDecoded.toFixed(0)} ms; full-resolution tiles asked ${r.tilesAsked}, decoded ${r.tilesDone} of ${r.tileCount}; -1: not within ${TIMEOUT_MS} ms)\n`);
            runs[mode].push(r);
          } finally {
            await page.close();
          }
        }
      }
    } finally {
      await browser.close();
    }
    const rows: BenchRow[] = [];
    for (const [key, label] of [['firstPixels', 'first drawn pixels'], ['covered', 'home view fully covered'], ['loaded', 'every tile of the home view drawn'], ['tilesDecoded', 'last full-resolution tile decoded']] as const) {
      const off = median(runs.off.map((r) => r[key]));
      const on = median(runs.on.map((r) => r[key]));
      rows.push({ bench: 'viewer', metric: `${label}, fastFirstPaint off`, value: off, unit: 'ms' });
      rows.push({ bench: 'viewer', metric: `${label}, fastFirstPaint on`, value: on, unit: 'ms' });
      // -1: not reached within the timeout (then no ratio).
      if (on >= 0 && off >= 0) rows.push({ bench: 'viewer', metric: `${label}, ratio on / off`, value: on / off, unit: '×' });
    }
    return rows;
  } finally {
    server.close();
    await rm(work, { recursive: true, force: true });
  }
}
