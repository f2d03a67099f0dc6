/**
 * The engine worker in Chromium: inspect a picked-like File, thumbnail, and de-identify into OPFS,
 * including a generated 4.5 GiB BigTIFF (offsets past 2^32) and cancellation (the SlideError code
 * must survive Comlink). mocha's describe/it come from web-test-runner.
 */
import { proxy, wrap, type Remote } from 'comlink';
import { registerSlideErrorTransfer } from '../../src/shared/comlink-errors.ts';
import { SlideError } from '../../src/shared/errors.ts';
import type { EngineApi } from '../../src/workers/engine-api.ts';
import type { GenOptions } from '../fixtures/generate-tiff.ts';

declare const describe: (name: string, fn: () => void) => void;
declare const it: (name: string, fn: () => Promise<void>) => void;
declare const after: (fn: () => Promise<void>) => void;

function check(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

const DIR = 'engine-opfs-test';

async function makeInOpfs(name: string, opts: GenOptions): Promise<{ file: File; phi: string[] }> {
  const w = new Worker(new URL('/test/browser/make-tiff.worker.ts', location.origin), { type: 'module' });
  const r = await new Promise<{ ok: boolean; error?: string; phi: string[] }>((resolve) => {
    w.onmessage = (e) => resolve(e.data);
    w.postMessage({ dir: DIR, name, opts });
  });
  w.terminate();
  check(r.ok, `generating ${name}: ${r.error}`);
  const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle(DIR);
  return { file: await (await dir.getFileHandle(name)).getFile(), phi: r.phi };
}

async function opfsFile(path: string): Promise<File> {
  let d = await navigator.storage.getDirectory();
  const parts = path.split('/');
  const name = parts.pop()!;
  for (const p of parts) d = await d.getDirectoryHandle(p);
  return (await d.getFileHandle(name)).getFile();
}

async function absent(file: File, from: number, phi: string[]): Promise<void> {
  const text = new Uint8Array(await file.slice(from).arrayBuffer());
  let s = '';
  for (let i = 0; i < text.length; i += 8192) s += String.fromCharCode(...text.subarray(i, i + 8192));
  for (const v of phi) check(!s.includes(v), `a removed ${v.length}-byte value is still in the output`);
}

describe('engine worker + OPFS', () => {
  registerSlideErrorTransfer();
  const worker = new Worker(new URL('/src/workers/engine.worker.ts', location.origin), { type: 'module' });
  const engine: Remote<EngineApi> = wrap<EngineApi>(worker);

  after(async () => {
    worker.terminate();
    await (await navigator.storage.getDirectory()).removeEntry(DIR, { recursive: true }).catch(() => {});
  });

  it('inspects a small SVS-like slide, makes a thumbnail and de-identifies it into OPFS', async () => {
    const { file, phi } = await makeInOpfs('small.svs', { kind: 'svs', compression: 'deflate', label: true, macro: true, extraTags: true });
    const [r] = await engine.inspect([file]);
    check(r && r.ok, `inspect failed: ${JSON.stringify(r)}`);
    const s = r.slide;
    check(s.format === 'aperio-svs', s.format);
    check(s.images.map((i) => i.role).join() === 'level,thumbnail,level,label,overview', s.images.map((i) => i.role).join());
    const thumb = await engine.thumbnail(s.key, 128);
    check(thumb && thumb.bitmap.width === thumb.width && Math.max(thumb.width, thumb.height) <= 128, 'thumbnail');
    const seen: number[] = [];
    const report = await engine.redactToOpfs(s.key, s.defaultRequest, `${DIR}/out`, proxy((d: number) => void seen.push(d)));
    check(report.verify.ok && report.sweep.ok, 'verified');
    check(report.outputs[0]!.name === `${DIR}/out/small.svs`, report.outputs[0]!.name);
    const out = await opfsFile(report.outputs[0]!.name);
    check(out.size === file.size, 'same size');
    await absent(out, 0, phi);
    const again = await engine.inspect([out]);
    check(again[0]!.ok && again[0]!.slide.fields.every((f) => f.class !== 'phi'), 'output is clean');
  });

  it('errors keep their SlideError code across the worker boundary; a bad file fails alone', async () => {
    const junk = new File([new Uint8Array([0x49, 0x49, 42, 0, 0xff, 0xff, 0xff, 0x7f])], 'junk.tif');
    const [r] = await engine.inspect([junk]);
    check(r && !r.ok && r.error.code === 'TRUNCATED', JSON.stringify(r));
    try {
      await engine.readTile('no-such-key', 'ifd-0', 0, 0);
      throw new Error('expected a rejection');
    } catch (e) {
      check(e instanceof SlideError && e.code === 'NOT_FOUND', `got ${String(e)}`);
    }
  });

  it('de-identifies a 4.5 GiB BigTIFF in OPFS, and cancel stops a run with ABORTED', async () => {
    const { file, phi } = await makeInOpfs('big.svs', {
      kind: 'svs', compression: 'deflate', bigTiff: true, label: true, macro: true, extraTags: true,
      sparseLevel0: { across: 96, down: 96, tileBytes: 524288 },
    });
    check(file.size > 4.5 * 2 ** 30, `input ${file.size}`);
    const [r] = await engine.inspect([file]);
    check(r && r.ok, `inspect failed: ${JSON.stringify(r)}`);
    const key = r.slide.key;

    let cancelled = false;
    try {
      await engine.redactToOpfs(key, r.slide.defaultRequest, `${DIR}/cancel`, proxy((d: number) => {
        if (d > 256 * 1024 * 1024 && !cancelled) {
          cancelled = true;
          void engine.cancel('job-1');
        }
      }), 'job-1');
      throw new Error('expected cancellation');
    } catch (e) {
      check(e instanceof SlideError && e.code === 'ABORTED', `got ${String(e)}`);
    }

    const t0 = performance.now();
    const report = await engine.redactToOpfs(key, r.slide.defaultRequest, `${DIR}/out`, undefined, 'job-2');
    const seconds = (performance.now() - t0) / 1000;
    check(report.verify.ok && report.sweep.ok, 'verified');
    const out = await opfsFile(report.outputs[0]!.name);
    check(out.size === file.size, 'same size');
    await absent(out, out.size - 64 * 1024 * 1024, phi);
    console.log(`OPFS redaction of ${(file.size / 1e9).toFixed(2)} GB: ${seconds.toFixed(1)} s, ${(file.size / 1e9 / seconds).toFixed(2)} GB/s`);
  });
});
