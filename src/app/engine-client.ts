import { wrap, type Remote } from 'comlink';
import type { EngineApi } from '../workers/engine-api.ts';
import { registerSlideErrorTransfer } from '../shared/comlink-errors.ts';

/**
 * The page's one typed client of the engine worker. The worker is created on first use (the login
 * page never needs it) and shared by the wizard and the viewer.
 */
let workerUrl = '/engine.worker.js';
let remote: Remote<EngineApi> | undefined;
let worker: Worker | undefined;

/** Tests point this at the worker's source (the test runner bundles .ts requests). */
export function setEngineWorkerUrl(url: string): void {
  if (remote) throw new Error('engine worker already started');
  workerUrl = url;
}

export function engine(): Remote<EngineApi> {
  if (!remote) {
    // SlideError codes survive the worker boundary only with this handler (on both sides).
    registerSlideErrorTransfer();
    worker = new Worker(workerUrl, { type: 'module' });
    remote = wrap<EngineApi>(worker);
  }
  return remote;
}

/** Stop the worker (tests; or to abandon a stuck call): the next engine() starts a fresh one. */
export function stopEngine(): void {
  worker?.terminate();
  worker = undefined;
  remote = undefined;
}
