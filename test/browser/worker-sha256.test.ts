/**
 * The engine worker's streaming SHA-256 (engine-api sha256File: 8 MiB reads through the hashing
 * worker, engine/io/web/worker-hash.ts), in Chromium, checked against WebCrypto. Chunks larger
 * than a hash piece (the zero-copy upload's 32 MiB) are covered end to end by e2e zero-copy: the
 * server checks the digest the page sends.
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

/** Bytes that differ at every offset (a misplaced read shows). */
function pattern(n: number, seed: number): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

const hex = (buf: ArrayBuffer) => [...new Uint8Array(buf)].map((x) => x.toString(16).padStart(2, '0')).join('');

describe('engine worker sha256File', () => {
  registerSlideErrorTransfer();
  const worker = new Worker(new URL('/src/workers/engine.worker.ts', location.origin), { type: 'module' });
  const engine: Remote<EngineApi> = wrap<EngineApi>(worker);
  after(async () => worker.terminate());

  it('equals WebCrypto over several reads, and for an empty blob', async () => {
    // Two whole 8 MiB reads and a short one.
    const bytes = pattern(17 * 1024 * 1024 + 1234, 99);
    const want = hex(await crypto.subtle.digest('SHA-256', bytes));
    check((await engine.sha256File(new File([bytes], 'x.svs'))) === want, 'the streamed digest differs from WebCrypto');
    const empty = hex(await crypto.subtle.digest('SHA-256', new Uint8Array(0)));
    check((await engine.sha256File(new Blob([]))) === empty, 'the digest of nothing is wrong');
  });

  it('holds a background hash while told (a foreground one goes on), then finishes it with the right digest', async () => {
    const bytes = pattern(25 * 1024 * 1024 + 77, 7);
    const want = hex(await crypto.subtle.digest('SHA-256', bytes));
    const file = new File([bytes], 'original.svs');
    await engine.holdBackgroundHashing(true);
    let backgroundDone = false;
    const background = engine.sha256File(file, 'bg-1', true).then((h) => ((backgroundDone = true), h));
    // The same work in the foreground: done while the held one has not finished.
    check((await engine.sha256File(file, 'fg-1')) === want, 'the foreground digest is wrong');
    await new Promise((r) => setTimeout(r, 200));
    check(!backgroundDone, 'the background hash finished while held');
    await engine.holdBackgroundHashing(false);
    check((await background) === want, 'the held hash, let go, has the wrong digest');
  });

  it('cancels a held background hash', async () => {
    await engine.holdBackgroundHashing(true);
    const held = engine.sha256File(new File([pattern(9 * 1024 * 1024, 3)], 'o.svs'), 'bg-2', true).then(() => 'finished', (e: Error) => e.message);
    await new Promise((r) => setTimeout(r, 50));
    await engine.cancel('bg-2');
    const outcome = await held;
    await engine.holdBackgroundHashing(false);
    check(/cancelled/.test(outcome), `a cancelled held hash ends cancelled (${outcome})`);
  });
});
