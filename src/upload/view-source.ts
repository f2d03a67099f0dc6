import type { FileReader as TusFileReader, FileSource as TusFileSource, SliceResult } from 'tus-js-client';
import { EMPTY_SHA256, type DeferredDigest } from './deferred-digest.ts';

/** What the zero-copy source needs from the engine worker (contract Z3; see src/workers/upload-views.ts). */
export interface ViewEngine {
  /** Checked chunk [from, from+length) of an output: hashed and swept in the worker, transferred here. */
  readUploadChunk(viewSetId: string, output: number, from: number, length: number): Promise<Blob>;
  uploadDigest(viewSetId: string, output: number): Promise<string>;
}

export { DEFERRED_SHA256 } from '../shared/upload-digest.ts';

/** The `file` handed to tus-js-client for a zero-copy part: only this module's fileReader reads it. */
export interface ViewInput {
  viewSetId: string;
  output: number;
  size: number;
}

/**
 * One zero-copy part as tus-js-client sees it: a custom fileReader whose slices are read through
 * the worker's checked reader (never staged, never copied on this thread: the chunk's buffer was
 * transferred), and the digest for the PATCH carrying the last byte (Z2, deferred-digest.ts).
 *
 * The digest is known once the worker returned the last chunk: slice() of the last range awaits
 * it, and tus-js-client asks for it (onBeforeRequest) only after that slice was read.
 */
export class ViewUpload {
  private sha256: string | undefined;
  /** Bytes handed to tus-js-client so far in this run (what left, or is leaving, this PC). */
  private readEnd = 0;

  constructor(private readonly engine: ViewEngine, readonly input: ViewInput) {}

  /** The part's SHA-256 once its last chunk was read in this run. */
  get digest(): string | undefined {
    // An empty output (a MIRAX .mrxs: everything is in Slidedat.ini) is finished by its creation:
    // tus-js-client never reads a slice of it, and its digest needs none.
    return this.input.size === 0 ? EMPTY_SHA256 : this.sha256;
  }

  readonly fileReader: TusFileReader = {
    openFile: async (input: ViewInput): Promise<TusFileSource> => ({
      size: input.size,
      slice: (start: number, end: number) => this.slice(start, end),
      close: () => undefined,
    }),
  };

  /** For withDeferredDigest: asked on the request that carries the last byte, after its slice was read. */
  get deferred(): DeferredDigest {
    // A getter: field initializers run before the constructor's parameter properties are set.
    return {
      size: this.input.size,
      digest: () => {
        if (this.sha256 === undefined || this.readEnd < this.input.size) throw new Error('the digest is not known before the last chunk was read');
        return this.sha256;
      },
    };
  }

  private async slice(start: number, end: number): Promise<SliceResult> {
    const { viewSetId, output, size } = this.input;
    const stop = Math.min(end, size);
    // A retry or resume restarts below what was read: the digest of a run is recomputed by it.
    if (start < this.readEnd) this.sha256 = undefined;
    const value = await this.engine.readUploadChunk(viewSetId, output, start, stop - start);
    if (value.size !== stop - start) throw new Error(`the de-identified part is shorter than planned (${start + value.size} of ${size} bytes)`);
    this.readEnd = stop;
    if (stop >= size) this.sha256 = await this.engine.uploadDigest(viewSetId, output);
    // A Blob made in the worker: Chromium sends it from its blob store, while an array body is
    // copied (and, with DevTools attached, re-encoded) on this thread — measured 0.14 vs 0.12 GB/s
    // without DevTools, 0.05 vs 0.006 GB/s with it. done stays false: the size is fixed and known
    // (tus-js-client only uses `done` for uploads of unknown length).
    return { value, done: false };
  }
}
