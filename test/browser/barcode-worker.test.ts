/**
 * Issue 14 (C4): the BUILT engine worker (dist/public/engine.worker.js, `npm run build` first —
 * `npm test` builds before its browser stage) finds barcodes in Chromium, its zxing .wasm loaded
 * from codecs/ beside it (the bench checks no other host is ever asked). The test slides are made
 * here: codes drawn by zxing-wasm's writer (its .wasm from /node_modules), placed on an LZW label
 * or, sideways, on a JPEG macro encoded by the browser, in an SVS from the shared generator.
 */
import { wrap, type Remote } from 'comlink';
import { prepareZXingModule, writeBarcode } from 'zxing-wasm/writer';
import { registerSlideErrorTransfer } from '../../src/shared/comlink-errors.ts';
import type { EngineApi } from '../../src/workers/engine-api.ts';
import { generateSlide, type AssociatedContent } from '../fixtures/generate-tiff.ts';

declare const describe: (name: string, fn: () => void) => void;
declare const it: (name: string, fn: () => Promise<void>) => void;
declare const before: (fn: () => Promise<void>) => void;
declare const after: (fn: () => Promise<void>) => void;

function check(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

const BUILT_WORKER = '/dist/public/engine.worker.js';

prepareZXingModule({
  overrides: { locateFile: (path: string, prefix: string) => (path.endsWith('.wasm') ? `/node_modules/zxing-wasm/dist/writer/${path}` : prefix + path) },
});

/** A canvas of the label or macro: light paper, the code drawn at (x, y), optionally turned 90°. */
async function drawCode(text: string, format: 'Code128' | 'DataMatrix', size: { w: number; h: number }, sideways: boolean): Promise<OffscreenCanvas> {
  const out = await writeBarcode(text, { format, scale: 3, withQuietZones: true, withHRT: false });
  check(out.image, `zxing writer: ${out.error}`);
  const code = await createImageBitmap(out.image);
  const [cw, ch] = sideways ? [code.height, code.width] : [code.width, code.height];
  const canvas = new OffscreenCanvas(Math.max(size.w, cw + 60), Math.max(size.h, ch + 60));
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = 'rgb(214,190,206)';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = 'rgb(244,242,236)';
  ctx.fillRect(0, 0, cw + 60, canvas.height);
  ctx.imageSmoothingEnabled = false;
  if (sideways) {
    ctx.translate(30 + code.height, 30);
    ctx.rotate(Math.PI / 2);
  } else ctx.translate(30, 30);
  ctx.drawImage(code, 0, 0);
  return canvas;
}

function rgbOf(canvas: OffscreenCanvas): AssociatedContent {
  const rgba = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
  const rgb = new Uint8Array(canvas.width * canvas.height * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) rgb.set(rgba.subarray(i, i + 3), j);
  return { width: canvas.width, height: canvas.height, rgb };
}

async function jpegOf(canvas: OffscreenCanvas): Promise<AssociatedContent> {
  const blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.92 });
  return { width: canvas.width, height: canvas.height, jpeg: new Uint8Array(await blob.arrayBuffer()) };
}

function svsFile(name: string, content: { label?: AssociatedContent; macro: AssociatedContent }): File {
  const g = generateSlide({
    kind: 'svs', compression: 'lzw', tilesAcross: 2, tilesDown: 2, levels: 1, aperioBarcode: null,
    label: !!content.label, macro: true, ...(content.label ? { labelContent: content.label } : {}), macroContent: content.macro,
  });
  const bytes = new Uint8Array(g.layout.size);
  for (const p of g.layout.pieces) bytes.set(p.bytes, p.offset);
  return new File([bytes], name);
}

describe('barcodes in the built engine worker', () => {
  registerSlideErrorTransfer();
  let worker: Worker;
  let engine: Remote<EngineApi>;
  const fetchLog = new BroadcastChannel('wsi-barcode-fetch-log');
  const fetched: string[] = [];
  before(async () => {
    const res = await fetch(BUILT_WORKER, { method: 'HEAD' });
    check(res.ok, `${BUILT_WORKER}: ${res.status} — run npm run build first`);
    const wasm = await fetch('/dist/public/codecs/zxing_reader.wasm', { method: 'HEAD' });
    check(wasm.ok, `codecs/zxing_reader.wasm is not in the build (${wasm.status})`);
    // The built worker behind a thin wrapper that reports every URL it fetches (fetch and XHR,
    // Emscripten's two ways), so the test sees where the .wasm came from — and that it never
    // asked another host (the package's default is a CDN). import.meta.url stays the bundle's.
    const wrapper = `
      const log = new BroadcastChannel('wsi-barcode-fetch-log');
      const note = (u) => log.postMessage(new URL(String(u), '${location.origin}${BUILT_WORKER}').href);
      const realFetch = self.fetch.bind(self);
      self.fetch = (input, init) => (note(input instanceof Request ? input.url : input), realFetch(input, init));
      const realOpen = XMLHttpRequest.prototype.open;
      XMLHttpRequest.prototype.open = function (m, u, ...rest) { note(u); return realOpen.call(this, m, u, ...rest); };
      await import('${location.origin}${BUILT_WORKER}');`;
    fetchLog.onmessage = (e: MessageEvent<string>) => void fetched.push(e.data);
    worker = new Worker(URL.createObjectURL(new Blob([wrapper], { type: 'text/javascript' })), { type: 'module' });
    engine = wrap<EngineApi>(worker);
  });
  after(async () => {
    worker?.terminate();
    fetchLog.close();
  });

  async function barcodesOf(file: File) {
    const [r] = await engine.inspect([file]);
    check(r?.ok, `inspect: ${JSON.stringify(r)}`);
    try {
      return await engine.barcodes(r.slide.key);
    } finally {
      await engine.close(r.slide.key);
    }
  }

  it('decodes a Code 128 on the label (LZW)', async () => {
    const label = rgbOf(await drawCode('S24-77001-B2', 'Code128', { w: 520, h: 300 }, false));
    const scan = await barcodesOf(svsFile('label.svs', { label, macro: rgbOf(new OffscreenCanvas(64, 32)) }));
    check(JSON.stringify(scan.barcodes) === JSON.stringify([{ value: 'S24-77001-B2', symbology: 'Code128', source: 'label' }]), `label: ${JSON.stringify(scan.barcodes)}`);
    check(scan.imagesSearched === 1 && scan.decodeMs > 0, `scan: ${JSON.stringify({ ...scan, barcodes: undefined })}`);
  });

  it('without a label: decodes a sideways code on the JPEG macro (browser JPEG decoder)', async () => {
    for (const format of ['Code128', 'DataMatrix'] as const) {
      const macro = await jpegOf(await drawCode('S24-77002', format, { w: 1400, h: 520 }, true));
      const scan = await barcodesOf(svsFile(`macro-${format}.svs`, { macro }));
      check(JSON.stringify(scan.barcodes) === JSON.stringify([{ value: 'S24-77002', symbology: format, source: 'macro' }]), `${format}: ${JSON.stringify(scan.barcodes)}`);
    }
  });

  it('a label and macro without a code: nothing found, no error', async () => {
    const paper = new OffscreenCanvas(400, 300);
    const ctx = paper.getContext('2d')!;
    ctx.fillStyle = 'rgb(244,242,236)';
    ctx.fillRect(0, 0, 400, 300);
    const blank = rgbOf(paper);
    const scan = await barcodesOf(svsFile('blank.svs', { label: blank, macro: blank }));
    check(scan.barcodes.length === 0 && scan.imagesSearched === 2, `blank: ${JSON.stringify(scan)}`);
  });

  it('the reader came from codecs/ beside the worker, nothing from another host; the service worker precaches it', async () => {
    await new Promise((r) => setTimeout(r, 100)); // let the last log messages arrive
    check(fetched.includes(`${location.origin}/dist/public/codecs/zxing_reader.wasm`), `fetched: ${JSON.stringify(fetched)}`);
    const foreign = fetched.filter((u) => !u.startsWith(`${location.origin}/`));
    check(foreign.length === 0, `requests to other hosts: ${JSON.stringify(foreign)}`);
    const sw = await (await fetch('/dist/public/sw.js')).text();
    check(sw.includes('/codecs/zxing_reader.wasm'), 'sw.js does not precache codecs/zxing_reader.wasm');
  });
});
