/**
 * Issue 4 in Chromium: a DICOM WSI instance whose pixel data is over 2 GiB, generated in OPFS
 * inside the test (header, then the pixel data in chunks through a sync access handle), is
 * de-identified into OPFS by the engine worker. Checked: the report (verify + PHI sweep), the
 * output re-opens as the same slide without the identifying values, our own byte search of the
 * output's header finds none of them, the trailing element is gone, and the pixel data is
 * byte-identical to the input's at sampled offsets at the start, middle and end.
 */
import { proxy, wrap, type Remote } from 'comlink';
import { registerSlideErrorTransfer } from '../../src/shared/comlink-errors.ts';
import type { EngineApi } from '../../src/workers/engine-api.ts';

declare const describe: (name: string, fn: () => void) => void;
declare const it: (name: string, fn: () => Promise<void>) => void;
declare const after: (fn: () => Promise<void>) => void;

function check(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

const DIR = 'dicom-opfs-test';

interface Made {
  ok: boolean;
  error?: string;
  size: number;
  pixelStart: number;
  pixelBytes: number;
  frameBytes: number;
  marked: { frame: number; byte: number }[];
  phi: string[];
}

async function makeInOpfs(name: string): Promise<{ file: File; made: Made }> {
  const w = new Worker(new URL('/test/browser/make-dicom.worker.ts', location.origin), { type: 'module' });
  const made = await new Promise<Made>((resolve) => {
    w.onmessage = (e) => resolve(e.data);
    w.postMessage({ dir: DIR, name, opts: { marks: [1500] } });
  });
  w.terminate();
  check(made.ok, `generating ${name}: ${made.error}`);
  const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle(DIR);
  return { file: await (await dir.getFileHandle(name)).getFile(), made };
}

async function opfsFile(path: string): Promise<File> {
  let d = await navigator.storage.getDirectory();
  const parts = path.split('/');
  const name = parts.pop()!;
  for (const p of parts) d = await d.getDirectoryHandle(p);
  return (await d.getFileHandle(name)).getFile();
}

async function bytes(f: Blob, from: number, length: number): Promise<Uint8Array> {
  return new Uint8Array(await f.slice(from, from + length).arrayBuffer());
}

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

describe('DICOM > 2 GiB pixel data in OPFS', () => {
  registerSlideErrorTransfer();
  const worker = new Worker(new URL('/src/workers/engine.worker.ts', location.origin), { type: 'module' });
  const engine: Remote<EngineApi> = wrap<EngineApi>(worker);

  after(async () => {
    worker.terminate();
    await (await navigator.storage.getDirectory()).removeEntry(DIR, { recursive: true }).catch(() => {});
  });

  it('de-identifies it into OPFS: header clean, pixel data identical, trailing element dropped', async () => {
    const { file, made } = await makeInOpfs('large.dcm');
    check(made.pixelBytes > 2 ** 31, `pixel data ${made.pixelBytes}`);
    check(file.size === made.size, `input ${file.size}`);
    const [r] = await engine.inspect([file]);
    check(r && r.ok, `inspect failed: ${JSON.stringify(r)}`);
    check(r.slide.format === 'dicom-wsi', r.slide.format);
    const enc = new TextEncoder();
    const phi = made.phi.map((v) => enc.encode(v));
    // The values are really in the input (else absence in the output would prove nothing).
    const inHead = await bytes(file, 0, made.pixelStart);
    for (const v of phi) check(indexOf(inHead, v) >= 0, 'a planted value is missing from the input');

    let last = 0;
    let total = 0;
    const t0 = performance.now();
    const report = await engine.redactToOpfs(r.slide.key, { ...r.slide.defaultRequest, options: { uidKey: 'ef'.repeat(32) } }, `${DIR}/out`, proxy((d: number, t: number) => {
      last = d;
      total = t;
    }));
    const seconds = (performance.now() - t0) / 1000;
    check(report.verify.ok, `verify: ${report.verify.problems.join('; ')}`);
    check(report.sweep.ok && report.sweep.hits === 0 && report.sweep.valuesSearched >= phi.length, `sweep ${JSON.stringify(report.sweep)}`);
    check(report.outputs.length === 1 && /^[0-9a-f]{64}$/.test(report.outputs[0]!.sha256), 'one output with a SHA-256');
    check(total > 0 && last === total, `progress ended at ${last} of ${total}`);

    const out = await opfsFile(report.outputs[0]!.name);
    check(out.size === report.outputs[0]!.size, 'reported size');
    // Output = re-encoded header + pixel data; the element after Pixel Data is not copied.
    const outPixelStart = out.size - made.pixelBytes;
    check(outPixelStart > 132 && outPixelStart < 64 * 1024, `header of ${outPixelStart} bytes`);
    const outHead = await bytes(out, 0, outPixelStart);
    const pdv = new DataView(outHead.buffer, outHead.byteOffset + outPixelStart - 12, 12);
    check(pdv.getUint16(0, true) === 0x7fe0 && pdv.getUint16(2, true) === 0x0010 && pdv.getUint32(8, true) === made.pixelBytes, 'Pixel Data element header ends the header');
    for (const v of phi) check(indexOf(outHead, v) < 0, `a removed ${v.length}-byte value is still in the output header`);
    // (0012,0062) PatientIdentityRemoved, explicit VR little endian: CS, length 4, "YES ".
    check(indexOf(outHead, new Uint8Array([0x12, 0x00, 0x62, 0x00, 0x43, 0x53, 4, 0, 0x59, 0x45, 0x53, 0x20])) >= 0, 'PatientIdentityRemoved = YES written');
    check(indexOf(await bytes(out, out.size - 4096, 4096), enc.encode('SIGNED-BY-OPFS')) < 0, 'trailing element dropped');

    // Pixel data identical at sampled offsets: start, middle, end, the marked frames, and between.
    const samples = [0, made.pixelBytes / 2, made.pixelBytes - 65536, ...made.marked.map((m) => m.frame * made.frameBytes), ...[0.1, 0.3, 0.7, 0.9].map((f) => Math.floor(made.pixelBytes * f))];
    for (const at of samples) {
      const a = await bytes(file, made.pixelStart + at, 65536);
      const b = await bytes(out, outPixelStart + at, 65536);
      check(a.length === 65536 && b.length === 65536, `sample at ${at}`);
      for (let i = 0; i < a.length; i++) check(a[i] === b[i], `pixel data differs at pixel offset ${at + i}`);
    }
    for (const m of made.marked) check((await bytes(out, outPixelStart + m.frame * made.frameBytes, 16)).every((x) => x === m.byte), `marked frame ${m.frame}`);

    const [again] = await engine.inspect([out]);
    check(again && again.ok && again.slide.format === 'dicom-wsi', 'output re-opens');
    check(again.slide.width === r.slide.width && again.slide.height === r.slide.height, 'same size');
    check(again.slide.fields.every((f) => !made.phi.includes(f.value)), 'no removed value in the output fields');
    console.log(`OPFS DICOM de-identification of ${(file.size / 1e9).toFixed(2)} GB: ${seconds.toFixed(1)} s, ${(file.size / 1e9 / seconds).toFixed(2)} GB/s`);
  });
});
