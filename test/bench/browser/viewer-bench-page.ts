/**
 * Viewer first-paint bench page (driven by test/bench/viewer.bench.ts through Playwright): the
 * product's <wsi-viewer> over the product's local-slide provider (engine worker, as the wizard's
 * preview opens a picked file), on a slide served by the bench. `window.viewerBench.open()` opens
 * it once and reports, from the moment the provider is handed to the viewer:
 *  - firstPixels: the first frame with any of the slide drawn on the viewer's canvas;
 *  - covered: the first frame where the whole home view (the slide's rectangle) is drawn;
 *  - loaded: every full-resolution tile decoded and OpenSeadragon says the view is drawn (sharp).
 * Frames are sampled with requestAnimationFrame on a grid of the canvas (alpha > 0 = drawn).
 */
import '../../../src/app/components/wsi-viewer/wsi-viewer.ts';
import type { WsiViewer } from '../../../src/app/components/wsi-viewer/wsi-viewer.ts';
import { providerFor } from '../../../src/app/viewer-provider.ts';
import { engine, stopEngine } from '../../../src/app/engine-client.ts';

interface Result {
  firstPixels: number;
  covered: number;
  loaded: number;
  /** When the last full-resolution tile was decoded (the engine's share of `loaded`). */
  tilesDecoded: number;
  /** Full-resolution tiles requested by OpenSeadragon, decoded, and in the slide. */
  tilesAsked: number;
  tilesDone: number;
  tileCount: number;
  tilesAcross: number;
  tilesDown: number;
}

const GRID = 24;
const TIMEOUT_MS = Number(new URLSearchParams(location.search).get('timeout') ?? 120_000);

/** Share of the GRID×GRID points inside the slide's rectangle that are drawn (0..1). */
function drawnShare(el: WsiViewer): number {
  const osd = (el as unknown as { viewer?: { drawer: { canvas: HTMLCanvasElement }; world: { getItemAt(i: number): { getBounds(): unknown } | undefined }; viewport: { viewportToViewerElementRectangle(r: unknown): { x: number; y: number; width: number; height: number } } } }).viewer;
  const item = osd?.world.getItemAt(0);
  const canvas = osd?.drawer.canvas;
  if (!osd || !item || !(canvas instanceof HTMLCanvasElement) || canvas.width === 0) return 0;
  const r = osd.viewport.viewportToViewerElementRectangle(item.getBounds());
  const sx = canvas.width / canvas.clientWidth;
  const x0 = Math.max(0, Math.ceil(r.x * sx) + 2);
  const y0 = Math.max(0, Math.ceil(r.y * sx) + 2);
  const x1 = Math.min(canvas.width, Math.floor((r.x + r.width) * sx) - 2);
  const y1 = Math.min(canvas.height, Math.floor((r.y + r.height) * sx) - 2);
  if (x1 <= x0 || y1 <= y0) return 0;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('the viewer canvas is not a 2D canvas: cannot sample it');
  const px = ctx.getImageData(x0, y0, x1 - x0, y1 - y0).data;
  const w = x1 - x0;
  const h = y1 - y0;
  let drawn = 0;
  for (let j = 0; j < GRID; j++) {
    for (let i = 0; i < GRID; i++) {
      const x = Math.floor(((i + 0.5) / GRID) * (w - 1));
      const y = Math.floor(((j + 0.5) / GRID) * (h - 1));
      if (px[(y * w + x) * 4 + 3]! > 0) drawn++;
    }
  }
  return drawn / (GRID * GRID);
}

async function open(url: string, fastFirstPaint: boolean): Promise<Result> {
  document.querySelector('wsi-viewer')?.remove();
  let t0 = performance.now();
  // A fresh worker per run: no decoded tiles or open slide carried over from the other mode.
  stopEngine();
  const blob = await (await fetch(url)).blob();
  const file = new File([blob], url.split('/').pop()!, { type: 'image/tiff' });
  const [r] = await engine().inspect([file]);
  if (!r?.ok) throw new Error(r ? r.error.message : 'nothing inspected');
  // As wsi-deep-zoom-dialog builds the local preview's levels.
  const levels = r.slide.images
    .filter((i) => i.role === 'level' && i.tileWidth && i.tileHeight)
    .sort((a, b) => (a.level ?? 0) - (b.level ?? 0))
    .map((i) => ({ imageId: i.id, width: i.width, height: i.height, tileWidth: i.tileWidth!, tileHeight: i.tileHeight! }));
  const plain = providerFor(r.slide.key, levels, r.slide.images);
  // Full-resolution tiles decoded and handed over (the home view of a single-level slide needs them all).
  // Distinct tiles: the navigator (a second OpenSeadragon) asks for the same ones.
  const asked = new Set<string>();
  const done = new Set<string>();
  let tilesAt = -1;
  const provider = {
    ...plain,
    tile: async (level: number, col: number, row: number, signal?: AbortSignal) => {
      if (level === 0) asked.add(`${col},${row}`);
      const bmp = await plain.tile(level, col, row, signal);
      if (level === 0 && done.add(`${col},${row}`).size === tileCount && tilesAt < 0) tilesAt = performance.now() - t0;
      return bmp;
    },
  };
  const tileCount = Math.ceil(levels[0]!.width / levels[0]!.tileWidth) * Math.ceil(levels[0]!.height / levels[0]!.tileHeight);
  const el = document.createElement('wsi-viewer') as WsiViewer;
  el.fastFirstPaint = fastFirstPaint;
  el.name = 'bench';
  document.body.append(el);
  await el.updateComplete;
  t0 = performance.now();
  el.provider = provider;
  let firstPixels = -1;
  let covered = -1;
  let loaded = -1;
  await new Promise<void>((resolve, reject) => {
    const frame = () => {
      const now = performance.now() - t0;
      const share = drawnShare(el);
      if (firstPixels < 0 && share > 0) firstPixels = now;
      if (covered < 0 && share === 1) covered = now;
      // OpenSeadragon also says "loaded" once the placeholder is drawn: only with every tile decoded is it sharp.
      if (loaded < 0 && tilesAt >= 0 && el.hasAttribute('data-loaded')) loaded = now;
      if (firstPixels >= 0 && covered >= 0 && loaded >= 0) resolve();
      // Not sharp in time: reported as not reached (-1) with how many full-resolution tiles were asked for.
      else if (now > TIMEOUT_MS) resolve();
      else requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  });
  const base = levels[0]!;
  await engine().close(r.slide.key);
  return { firstPixels, covered, loaded, tilesDecoded: tilesAt, tilesAsked: asked.size, tilesDone: done.size, tileCount, tilesAcross: Math.ceil(base.width / base.tileWidth), tilesDown: Math.ceil(base.height / base.tileHeight) };
}

(globalThis as unknown as { viewerBench: { open: typeof open } }).viewerBench = { open };
document.title = 'ready';
