import { outputViews, type OutputView } from '../engine/redact/output-view.ts';
import { CheckedReader } from '../engine/redact/checked-reader.ts';
import { verifyViews } from '../engine/redact/verify-views.ts';
import { SWEEP_FLOOR, sweepMinLength } from '../engine/redact/sweep.ts';
import type { Slide } from '../engine/formats/slide-format.ts';
import type { RedactionPlan, RedactionRequest } from '../engine/redact/plan-types.ts';
import type { HasherFactory } from '../engine/redact/sha256.ts';
import { SlideError, toSlideError } from '../shared/errors.ts';
import type { OpenedViews } from './engine-api-types.ts';

export type { OpenedViews };

/**
 * Zero-copy upload, the worker side (contract Z3): a slide's de-identified outputs as views over
 * its originals (Z1), verified before any byte leaves, then read in order by CheckedReaders that
 * hash and PHI-sweep each chunk before handing it over. Nothing is written anywhere; the page
 * only ever holds the chunk being sent.
 */

/** SlideError detail of a chunk that could not be read because the original changed or went away. */
export const ORIGINAL_UNREADABLE = 'ORIGINAL_UNREADABLE';
export const ORIGINAL_UNREADABLE_MESSAGE = 'The original file changed or is no longer readable: select it again';

/** Test builds only: overwrite output bytes after planning (Z1 plantForTest), to prove the sweep stops them. */
export interface PlantForTest {
  output: number;
  offset: number;
  bytes: Uint8Array;
}

interface ViewSet {
  slide: Slide;
  slideName: string;
  plan: RedactionPlan;
  views: OutputView[];
  readers: Map<number, ReaderState>;
  /** Outputs whose view a reader has streamed: a second reader gets a freshly verified view. */
  streamed: Set<number>;
  plant?: PlantForTest;
  /** Aborted on close: a read still running stops instead of holding the original open. */
  abort: AbortController;
}

/**
 * One output's reader. It works one chunk ahead: once a chunk is returned, the next one is read,
 * checked and hashed (`ahead`) while the page sends this one — the worker's work and the network
 * overlap instead of taking turns. Bounded: one checked chunk waits here. A chunk that fails its
 * checks ahead is never returned: the failure is thrown by the call that asks for it.
 */
interface ReaderState {
  reader: CheckedReader;
  chunkSize: number;
  ended: boolean;
  /** Output offset of the next chunk this state hands out. */
  nextFrom: number;
  /** The next chunk, checked and wrapped (a Blob for the page: its bytes can go), or null at the end. */
  ahead?: Promise<{ length: number; wrapped: unknown } | null>;
}

const sets = new Map<string, ViewSet>();
let nextId = 1;

/** Plan, build the views and verify them (structure, read through the views): no byte written or sent. */
export async function openViews(slide: Slide, request: RedactionRequest, plant?: PlantForTest): Promise<OpenedViews> {
  let plan: RedactionPlan;
  try {
    plan = await slide.plan(request);
  } catch (e) {
    throw toSlideError(e, slide.name);
  }
  const views = outputViews(plan, slide.parts);
  const { keptFields } = await verifyViews(slide, plan, views);
  const viewSetId = `v${nextId++}`;
  sets.set(viewSetId, { slide, slideName: slide.name, plan, views, readers: new Map(), streamed: new Set(), ...(plant ? { plant } : {}), abort: new AbortController() });
  const valuesSearched = Math.max(0, ...views.map((v) => plan.sweepValues.filter((x) => x.length >= Math.max(SWEEP_FLOOR, sweepMinLength(v.size))).length));
  return { viewSetId, outputs: views.map((v) => ({ name: v.name, size: v.size })), keptFields, valuesSearched };
}

/**
 * The chunk [from, from+length) of an output, checked, then passed through `wrap` (the engine API
 * makes it a Blob: done ahead too, so the page's next request is answered at once). Sequential
 * calls continue one reader; any other `from` (a resume, a retry after the server's offset) starts
 * a new reader there, which reads and hashes the prefix locally first. Without `wrap`, the caller
 * copies the bytes before the next read.
 */
export async function readChunk(viewSetId: string, output: number, from: number, length: number, hasher?: HasherFactory): Promise<Uint8Array>;
export async function readChunk<T>(viewSetId: string, output: number, from: number, length: number, hasher: HasherFactory | undefined, wrap: (bytes: Uint8Array) => T): Promise<T>;
export async function readChunk(viewSetId: string, output: number, from: number, length: number, hasher?: HasherFactory, wrap: (bytes: Uint8Array) => unknown = (b) => b): Promise<unknown> {
  const set = setOf(viewSetId);
  let view = set.views[output];
  if (!view) throw new SlideError('NOT_FOUND', `${set.slideName}: no output ${output}`);
  if (from >= view.size) return wrap(new Uint8Array(0));
  let r = set.readers.get(output);
  const last = from + length >= view.size;
  // A reader hands out chunks of its own size: a different length (other than the short last one) needs a new reader.
  if (!r || r.ended || r.nextFrom !== from || (r.chunkSize !== length && !last)) {
    // A resume or retry: the old reader (and its chunk read ahead) is dropped.
    if (r) dropReader(r);
    if (set.streamed.has(output)) view = await freshView(set, output).catch((e: unknown) => Promise.reject(readError(e, set.slideName)));
    set.streamed.add(output);
    const plant = set.plant?.output === output ? { offset: set.plant.offset, bytes: set.plant.bytes } : undefined;
    const reader = new CheckedReader(view, set.plan, { from, chunkSize: length, readAhead: false, signal: set.abort.signal, ...(hasher ? { hasher } : {}), ...(plant ? { plantForTest: plant } : {}) });
    r = { reader, chunkSize: length, ended: false, nextFrom: from };
    set.readers.set(output, r);
  }
  const reader = r.reader;
  const take = async () => {
    const bytes = await reader.next();
    return bytes && { length: bytes.length, wrapped: wrap(bytes) };
  };
  try {
    const chunk = await (r.ahead ?? take());
    r.ahead = undefined;
    if (chunk === null) {
      r.ended = true;
      return wrap(new Uint8Array(0));
    }
    r.nextFrom = from + chunk.length;
    if (r.nextFrom < view.size) {
      // Read ahead; a failure is kept for the call that asks for that chunk (never unhandled).
      r.ahead = take();
      r.ahead.catch(() => undefined);
    }
    return chunk.wrapped;
  } catch (e) {
    set.readers.delete(output);
    throw readError(e, set.slideName);
  }
}

/** A reader no longer used: its hasher (a worker in the browser) is released. */
function dropReader(r: ReaderState): void {
  r.ahead = undefined;
  r.reader.close();
}

/** SHA-256 of an output, once its reader has returned the last chunk. */
export async function digest(viewSetId: string, output: number): Promise<string> {
  const set = setOf(viewSetId);
  const r = set.readers.get(output);
  const view = set.views[output];
  if (!r || !view || r.nextFrom < view.size) throw new SlideError('CONFLICT', `${set.slideName}: the digest is known only after the last chunk was read`);
  if (!r.ended) {
    const more = r.ahead ? await r.ahead : await r.reader.next();
    r.ahead = undefined;
    if (more !== null) throw new SlideError('INTERNAL', `${set.slideName}: the output is longer than planned`);
    r.ended = true;
  }
  return r.reader.digestHex();
}

/**
 * A view verified anew, for a reader that starts over (a resume or retry from the server's
 * offset): verification leaves its byte checks and what it read on the view, and the reader
 * that streamed it before has used them up. Reads metadata only.
 */
async function freshView(set: ViewSet, output: number): Promise<OutputView> {
  const fresh = outputViews(set.plan, set.slide.parts);
  await verifyViews(set.slide, set.plan, fresh);
  set.views[output] = fresh[output]!;
  return fresh[output]!;
}

export function closeViews(viewSetId: string): void {
  const set = sets.get(viewSetId);
  set?.abort.abort();
  for (const r of set?.readers.values() ?? []) dropReader(r);
  sets.delete(viewSetId);
}

function setOf(viewSetId: string): ViewSet {
  const set = sets.get(viewSetId);
  if (!set) throw new SlideError('NOT_FOUND', 'this upload view is no longer open; open it again');
  return set;
}

/**
 * An unreadable original (Chromium: NotReadableError once the file changed on disk or went away,
 * surfaced by BlobSource as IO) stops the slide with one clear sentence; a sweep hit
 * (VERIFY_FAILED) and everything else keep their own message.
 */
function readError(e: unknown, slideName: string): SlideError {
  const err = toSlideError(e);
  const domName = (x: unknown) => (x instanceof Error || (typeof DOMException !== 'undefined' && x instanceof DOMException) ? (x as Error).name : '');
  const unreadable = err.code === 'IO' || err.code === 'CHANGED' || ['NotReadableError', 'NotFoundError'].includes(domName(err.cause)) || ['NotReadableError', 'NotFoundError'].includes(domName(e));
  // Shown in the slide's row, after its name: the sentence alone.
  if (unreadable) return new SlideError('IO', ORIGINAL_UNREADABLE_MESSAGE, { detail: ORIGINAL_UNREADABLE, cause: e });
  return err.forFile(slideName);
}
