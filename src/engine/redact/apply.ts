import type { ByteSink, ByteSource } from '../io/byte-source.ts';
import { OutputAssembler, OutputStream } from './assemble.ts';
import type { OutputPlan } from './plan-types.ts';

export const DEFAULT_CHUNK = 8 * 1024 * 1024;

export interface ApplyOptions {
  chunkSize?: number;
  signal?: AbortSignal;
  /**
   * Sees every output byte once, in order (hashing, PHI sweep). Must not modify the bytes nor keep
   * them once it returned or its promise (back-pressure) settled: the memory is read into again.
   */
  onChunk?: (bytes: Uint8Array, offset: number) => void | Promise<void>;
  /** Bytes of this output written so far. */
  onProgress?: (done: number) => void;
}

export interface ApplyResult {
  /** Text-bearing codestream segments blanked on the way (see codecs/segment-scrubber.ts). */
  blankedSegments: number;
}

/**
 * Write one output in a single sequential pass: each chunk is assembled from the plan's segments
 * (copied from any part, or literal bytes) and patches (assemble.ts, shared with the output views),
 * codestream text blanked, then written and, while the write runs, handed to `onChunk` (hash,
 * sweep). The next chunk is read meanwhile, so reading, writing and hashing overlap. Sources that
 * can read into given memory (readInto) cycle through two buffers: measured in Node on a 1.17 GiB
 * DICOM instance, a fresh zeroed buffer per read made the pass 24 % slower (median of 5). Reading
 * further ahead, or letting a write trail into the next chunk, measured slower still on 2 cores.
 */
export async function applyOutputPlan(out: OutputPlan, parts: ByteSource[], sink: ByteSink, opts: ApplyOptions = {}): Promise<ApplyResult> {
  const chunk = opts.chunkSize ?? DEFAULT_CHUNK;
  const pool: ArrayBuffer[] = [];
  const stream = new OutputStream(new OutputAssembler(out, parts), {
    chunkSize: chunk,
    take: () => pool.pop() ?? new ArrayBuffer(chunk),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  for (let c = await stream.next(); c; c = await stream.next()) {
    // Start the write, then hash/sweep the same (unmodified) bytes while it runs.
    const writing = sink.write(c.offset, c.bytes);
    let consumed: void | Promise<void>;
    try {
      consumed = opts.onChunk?.(c.bytes, c.offset);
    } finally {
      await writing;
    }
    await consumed;
    // Written and checked: the memory may be read into again.
    if (c.taken) pool.push(c.taken);
    opts.onProgress?.(c.offset + c.bytes.length);
  }
  await sink.truncate(out.size);
  return { blankedSegments: stream.blanked };
}
