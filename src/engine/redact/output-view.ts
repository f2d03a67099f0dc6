import type { ByteSource } from '../io/byte-source.ts';
import { SegmentScrubber, type CodestreamList } from '../codecs/segment-scrubber.ts';
import { firstIndex, OutputAssembler, OutputStream, type StreamOptions } from './assemble.ts';
import type { OutputPlan, RedactionPlan } from './plan-types.ts';
import type { Range } from './ranges.ts';

/**
 * The de-identified outputs of a plan as views over the originals: readable at any offset, and
 * byte for byte what applyOutputPlan would write (both are made by assemble.ts), with nothing
 * written anywhere. The zero-copy upload and the download read them through a CheckedReader
 * (checked-reader.ts); verification reads their metadata first (verify-views.ts).
 */

/** One output of a plan, readable without writing it anywhere. */
export interface OutputView {
  readonly name: string;
  readonly size: number;
  /** Random access (verification reads metadata through this; codestream scrubbing applied where it lands). */
  readAt(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array>;
  /** A ByteSource over the view (engine's io/byte-source.ts), for openSlide / verifyOutputAlone. */
  asSource(): ByteSource;
}

export function outputViews(plan: RedactionPlan, parts: ByteSource[]): OutputView[] {
  return plan.outputs.map((out) => new PlanOutputView(out, parts));
}

/** The byte half of the output-alone check, deferred by verifyViews to the reader (see OutputCheckOptions.deferByteScan). */
export interface DeferredByteCheck {
  /** Output ranges that must be zero. */
  outside: Range[];
  /** The kept codestreams: none may hold a text segment that is not blank (each reader checks in 'check' mode). */
  codestreams: CodestreamList;
}

/** Memory kept of what verification read, to notice an original that changed since (see CheckedReader). */
const RECORD_LIMIT = 16 * 1024 * 1024;
/** First piece read from a codestream's start when a read lands inside it (grows ×4 up to 1 MiB). */
const HEADER_PIECE = 4096;

export class PlanOutputView implements OutputView {
  readonly name: string;
  readonly size: number;
  /** Set by verifyViews when it deferred the byte scan: the reader runs it on each chunk. */
  byteCheck: DeferredByteCheck | undefined;
  private readonly asm: OutputAssembler;
  private source: ByteSource | undefined;
  private recording = false;
  private recorded: { offset: number; bytes: Uint8Array }[] = [];
  private recordedBytes = 0;

  constructor(readonly plan: OutputPlan, parts: readonly ByteSource[]) {
    this.asm = new OutputAssembler(plan, parts);
    this.name = plan.name;
    this.size = plan.size;
  }

  async readAt(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array> {
    const start = Math.max(0, Math.min(offset, this.size));
    const end = Math.min(this.size, start + Math.max(0, length));
    if (end <= start) return new Uint8Array(0);
    const got = await this.asm.read(start, end - start, signal);
    // Callers may keep, change or transfer what they get: never a source's own memory.
    const bytes = got.own ? got.bytes : got.bytes.slice();
    if (this.plan.codestreams) await this.scrub(this.plan.codestreams, bytes, start, signal);
    if (this.recording && this.recordedBytes + bytes.length <= RECORD_LIMIT) {
      this.recorded.push({ offset: start, bytes: bytes.slice() });
      this.recordedBytes += bytes.length;
    }
    return bytes;
  }

  asSource(): ByteSource {
    this.source ??= { name: this.name, size: this.size, read: (offset, length, signal) => this.readAt(offset, length, signal) };
    return this.source;
  }

  /** The view read once from its start (CheckedReader): the scrubber streams along, no re-parsing. */
  stream(opts: StreamOptions): OutputStream {
    return new OutputStream(this.asm, opts);
  }

  /** Keep (up to 16 MiB of) what is read from now on; verifyViews records what verification read. */
  record(on: boolean): void {
    this.recording = on;
  }

  /** What verification read, sorted by offset (the reader compares the bytes it streams with it). */
  get recordedReads(): readonly { offset: number; bytes: Uint8Array }[] {
    return this.recorded.sort((a, b) => a.offset - b.offset);
  }

  /**
   * Blank codestream text in `bytes` (output offset `offset`), as the sequential pass would. A
   * codestream that begins before `offset` is parsed from its start (its header is read from the
   * view, a small piece first) so the segment the read lands in is known; the parse of a header
   * stops at its first scan, so the pixel data before `offset` is not read.
   */
  private async scrub(cs: CodestreamList, bytes: Uint8Array, offset: number, signal?: AbortSignal): Promise<void> {
    const end = offset + bytes.length;
    const j0 = firstIndex(cs.starts.length, (k) => cs.starts[k]! >= offset);
    const j1 = firstIndex(cs.starts.length, (k) => cs.starts[k]! >= end);
    const prev = j0 - 1;
    // Parsing stops at the next stream's start (see SegmentScrubber.open).
    const straddles = prev >= 0 && Math.min(cs.starts[prev]! + cs.lengths[prev]!, cs.starts[j0] ?? Infinity) > offset;
    const from = straddles ? prev : j0;
    if (from >= j1) return;
    const scrubber = new SegmentScrubber({ starts: cs.starts.slice(from, j1), lengths: cs.lengths.slice(from, j1), kinds: cs.kinds.slice(from, j1) }, 'blank');
    if (straddles) {
      let piece = HEADER_PIECE;
      for (let pos = cs.starts[prev]!; pos < offset; piece = Math.min(piece * 4, 1 << 20)) {
        const n = Math.min(piece, offset - pos);
        const got = await this.asm.read(pos, n, signal);
        scrubber.process(got.own ? got.bytes : got.bytes.slice(), pos);
        pos += n;
        if (!scrubber.parsing) break; // the header ended before the read: nothing to blank in it
      }
    }
    scrubber.process(bytes, offset);
  }
}
