import { plural } from '../../shared/plural.ts';
import { SlideError, throwIfAborted, toSlideError } from '../../shared/errors.ts';
import { SegmentScrubber } from '../codecs/segment-scrubber.ts';
import { firstIndex } from './assemble.ts';
import { sweepPatterns } from './encodings.ts';
import { PlanOutputView, type DeferredByteCheck, type OutputView } from './output-view.ts';
import type { RedactionPlan } from './plan-types.ts';
import { createSha256, type Hasher, type HasherFactory } from './sha256.ts';
import { PhiSweeper, type ZeroRanges } from './sweep.ts';
import { countNonZero } from './zero-bytes.ts';

export interface CheckedReaderOptions {
  /** 0, or a resume offset: the prefix [0, from) is read, checked and hashed, not returned. */
  from: number;
  chunkSize: number;
  signal?: AbortSignal;
  hasher?: HasherFactory;
  /**
   * false: read each chunk only when it is asked for (the caller works ahead itself: the upload
   * worker checks the next chunk while the page sends this one). Default: one raw chunk ahead.
   */
  readAhead?: boolean;
  /** Test-only: output bytes overwritten after planning (a value the plan missed). */
  plantForTest?: { offset: number; bytes: Uint8Array };
}

interface Chunk {
  offset: number;
  bytes: Uint8Array;
  /** Memory of our own (else a source's: copied before it is changed or handed out). */
  own: boolean;
}

/**
 * Sequential, checked reading of one view for the upload (and the download): chunks in order,
 * each one checked BEFORE it is returned — compared with what verification read (an original that
 * changed since), the deferred byte half of the output-alone check (verifyViews: nothing non-zero
 * outside the structure, no codestream text), the PHI sweep (overlap across chunk edges) — then
 * hashed. A failed check throws (and every later call throws the same): the chunk that failed is
 * never returned, so the caller stops before it leaves. `digestHex()` after the last chunk.
 */
export class CheckedReader {
  private readonly chunks: { next(): Promise<Chunk | null> };
  private readonly sweeper: PhiSweeper;
  private readonly hash: Hasher;
  private readonly byteCheck: (DeferredByteCheck & { checker: SegmentScrubber }) | undefined;
  private readonly recorded: readonly { offset: number; bytes: Uint8Array }[];
  private readonly recordedEnd: number[] = [];
  private pos: number;
  private failed: unknown;
  private done = false;

  constructor(private readonly view: OutputView, plan: RedactionPlan, private readonly opts: CheckedReaderOptions) {
    if (!(opts.from >= 0 && opts.from <= view.size)) throw new SlideError('BAD_REQUEST', `${view.name}: cannot resume at byte ${opts.from} of ${view.size}`);
    if (!(opts.chunkSize > 0)) throw new SlideError('BAD_REQUEST', 'the chunk size must be positive');
    this.pos = opts.from;
    const out = plan.outputs.find((o) => o.name === view.name);
    this.sweeper = new PhiSweeper(sweepPatterns(plan.sweepValues, plan.sweepExact), view.size, out?.generated);
    this.hash = (opts.hasher ?? createSha256)();
    const base = { chunkSize: opts.chunkSize, boundary: opts.from, ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.readAhead === false ? { readAhead: false } : {}) };
    if (view instanceof PlanOutputView) {
      // A checker of its own: it follows this reader's pass over the codestreams.
      this.byteCheck = view.byteCheck && { ...view.byteCheck, checker: new SegmentScrubber(view.byteCheck.codestreams, 'check') };
      this.recorded = view.recordedReads;
      // A fresh buffer per chunk: what is returned is handed on (transferred), never read into again.
      const stream = view.stream({ ...base, take: () => new ArrayBuffer(opts.chunkSize) });
      this.chunks = stream;
    } else {
      this.byteCheck = undefined;
      this.recorded = [];
      this.chunks = readAtChunks(view, base);
    }
    let max = -1;
    for (const r of this.recorded) this.recordedEnd.push((max = Math.max(max, r.offset + r.bytes.length)));
  }

  /** Output offset of the next chunk returned. */
  get offset(): number {
    return this.pos;
  }

  /** The next checked chunk (memory of its own: it may be kept or transferred), or null at the end. */
  async next(): Promise<Uint8Array | null> {
    if (this.failed) throw this.failed;
    if (this.done) return null;
    try {
      for (;;) {
        throwIfAborted(this.opts.signal);
        const c = await this.chunks.next();
        if (!c) {
          this.done = true;
          return null;
        }
        const bytes = await this.check(c);
        if (c.offset < this.opts.from) continue; // the resumed prefix: hashed here, already sent
        this.pos = c.offset + bytes.length;
        return bytes;
      }
    } catch (e) {
      this.failed = readerError(e, this.view.name);
      this.hash.dispose?.();
      throw this.failed;
    }
  }

  /** Stop using this reader (a resume started another): later calls throw, the hasher is released. */
  close(): void {
    this.failed ??= new SlideError('ABORTED', `${this.view.name}: this reader was closed`);
    this.hash.dispose?.();
  }

  /** Lower-case hex SHA-256 of the whole view, once next() returned null. */
  async digestHex(): Promise<string> {
    if (!this.done) throw new SlideError('INTERNAL', `${this.view.name}: the digest is known only after the last chunk`);
    return this.hash.digestHex();
  }

  private async check(c: Chunk): Promise<Uint8Array> {
    const { name } = this.view;
    const end = c.offset + c.bytes.length;
    this.compareRecorded(c);
    let bytes = c.bytes;
    const plant = this.opts.plantForTest;
    if (plant && plant.offset < end && plant.offset + plant.bytes.length > c.offset) {
      if (!c.own) bytes = bytes.slice();
      const from = Math.max(plant.offset, c.offset);
      const to = Math.min(plant.offset + plant.bytes.length, end);
      bytes.set(plant.bytes.subarray(from - plant.offset, to - plant.offset), from - c.offset);
    } else if (!c.own && c.offset >= this.opts.from) {
      bytes = bytes.slice();
    }
    // Chunk-relative ranges the byte check proved zero: the sweep need not look at them again.
    let zeros: ZeroRanges | undefined;
    if (this.byteCheck) {
      zeros = [];
      const nonZero = countOutside(this.byteCheck.outside, bytes, c.offset, zeros);
      const text = this.byteCheck.checker.found;
      this.byteCheck.checker.process(bytes, c.offset);
      if (nonZero > 0) throw new SlideError('VERIFY_FAILED', `${name}: ${plural(nonZero, 'byte')} outside the image structure between bytes ${c.offset} and ${end} ${nonZero === 1 ? 'is' : 'are'} not blank — nothing more was sent`);
      if (this.byteCheck.checker.found > text) throw new SlideError('VERIFY_FAILED', `${name}: a text segment inside JPEG/JPEG 2000 data between bytes ${c.offset} and ${end} is not blank — nothing more was sent`);
    }
    const hits = this.sweeper.hits;
    this.sweeper.push(bytes, zeros);
    if (this.sweeper.hits > hits) throw new SlideError('VERIFY_FAILED', `${name}: a removed value was found at byte ${this.sweeper.lastHitOffset} — nothing more was sent`);
    // The hasher copies or consumes the bytes before update() returns (see Hasher).
    await this.hash.update(bytes);
    return bytes;
  }

  /** The bytes verification read must stream by unchanged: else the original changed since. */
  private compareRecorded(c: Chunk): void {
    const rec = this.recorded;
    if (rec.length === 0) return;
    const end = c.offset + c.bytes.length;
    const lo = firstIndex(rec.length, (k) => this.recordedEnd[k]! > c.offset);
    for (let k = lo; k < rec.length && rec[k]!.offset < end; k++) {
      const r = rec[k]!;
      const from = Math.max(r.offset, c.offset);
      const to = Math.min(r.offset + r.bytes.length, end);
      for (let i = from; i < to; i++) {
        if (c.bytes[i - c.offset] !== r.bytes[i - r.offset]) {
          throw new SlideError('CHANGED', `${this.view.name}: the original file changed while it was being sent (byte ${i} differs from what was verified) — nothing more was sent`);
        }
      }
    }
  }
}

/**
 * A source's own SlideError stays (BlobSource says the file can no longer be read); what a browser
 * throws raw for a File changed, moved or deleted since it was picked becomes CHANGED.
 */
function readerError(e: unknown, name: string): SlideError {
  if (e instanceof Error && !(e instanceof SlideError) && (e.name === 'NotReadableError' || e.name === 'NotFoundError')) {
    return new SlideError('CHANGED', `${name}: the original file can no longer be read (moved, changed or deleted?) — nothing more was sent`, { cause: e });
  }
  return toSlideError(e, name);
}

/**
 * Non-zero bytes of `bytes` (output offset `offset`) inside `outside` (sorted, disjoint); the
 * chunk-relative pieces of `outside` are added to `zeros` (they are zero when this returns 0).
 */
function countOutside(outside: DeferredByteCheck['outside'], bytes: Uint8Array, offset: number, zeros: ZeroRanges): number {
  const end = offset + bytes.length;
  let n = 0;
  for (let k = firstIndex(outside.length, (i) => outside[i]!.end > offset); k < outside.length && outside[k]!.start < end; k++) {
    const from = Math.max(outside[k]!.start, offset) - offset;
    const to = Math.min(outside[k]!.end, end) - offset;
    n += countNonZero(bytes, from, to);
    zeros.push(from, to);
  }
  return n;
}

/** Chunks of any view through readAt (a view that is not a PlanOutputView). */
function readAtChunks(view: OutputView, o: { chunkSize: number; boundary: number; signal?: AbortSignal }): { next(): Promise<Chunk | null> } {
  let pos = 0;
  return {
    async next() {
      if (pos >= view.size) return null;
      let end = Math.min(view.size, pos + o.chunkSize);
      if (pos < o.boundary && end > o.boundary) end = o.boundary;
      const bytes = await view.readAt(pos, end - pos, o.signal);
      if (bytes.length !== end - pos) throw new SlideError('TRUNCATED', `${view.name}: the view ended early`);
      const c = { offset: pos, bytes, own: true };
      pos = end;
      return c;
    },
  };
}
