import { SlideError, throwIfAborted } from '../../shared/errors.ts';
import type { ByteSource } from '../io/byte-source.ts';
import { SegmentScrubber } from '../codecs/segment-scrubber.ts';
import type { OutputPlan, Patch } from './plan-types.ts';

/**
 * The bytes of one planned output, made from its plan on demand: the one place that turns
 * segments (ranges of the inputs, literal bytes) and patches into output bytes. applyOutputPlan
 * writes them (the OPFS / disk copy), the output views (output-view.ts) read them without writing
 * anything (zero-copy upload, download): both must give identical bytes.
 */

/** Bytes of an output, and whose memory they are. */
export interface AssembledBytes {
  bytes: Uint8Array;
  /** Memory of our own (fresh, or a buffer `take` handed out): may be changed in place. */
  own: boolean;
  /** The buffer `take` handed out and `bytes` lies in (give it back once the bytes are used). */
  taken?: ArrayBuffer;
}

interface Placed {
  start: number;
  end: number;
  seg: OutputPlan['segments'][number];
}

interface PlacedPatch {
  p: Patch;
  order: number;
  start: number;
  end: number;
}

export class OutputAssembler {
  readonly name: string;
  readonly size: number;
  private readonly placed: Placed[] = [];
  private readonly patches: PlacedPatch[];
  /** maxEnd[i]: the largest patch end among patches[0..i] (patches sorted by start). */
  private readonly maxEnd: number[] = [];

  constructor(readonly plan: OutputPlan, private readonly parts: readonly ByteSource[]) {
    this.name = plan.name;
    this.size = plan.size;
    let pos = 0;
    for (const seg of plan.segments) {
      const len = seg.kind === 'copy' ? seg.length : seg.bytes.length;
      if (seg.kind === 'copy') {
        const part = parts[seg.part];
        if (!part) throw new SlideError('INTERNAL', `${plan.name}: plan refers to a missing input part`);
        if (seg.offset < 0 || seg.offset + seg.length > part.size) throw new SlideError('INTERNAL', `${plan.name}: plan copies past the end of ${part.name}`);
      }
      if (len > 0) this.placed.push({ start: pos, end: pos + len, seg });
      pos += len;
    }
    if (pos !== plan.size) throw new SlideError('INTERNAL', `${plan.name}: plan segments add up to ${pos} bytes, not ${plan.size}`);
    this.patches = plan.patches.map((p, order) => ({ p, order, start: p.offset, end: p.offset + patchLength(p) }));
    for (const x of this.patches) {
      if (x.start < 0 || x.end > plan.size || x.end < x.start) throw new SlideError('INTERNAL', `${plan.name}: a patch lies outside the output`);
    }
    this.patches.sort((a, b) => a.start - b.start || a.order - b.order);
    let max = -1;
    for (const x of this.patches) this.maxEnd.push((max = Math.max(max, x.end)));
  }

  /**
   * The output bytes [offset, offset + length) (inside the output), patches overlaid in plan order
   * (later ones win); codestream text is NOT blanked here (see OutputStream, output-view.ts).
   * `take` lends memory for a read that comes whole from one input (readInto): the common case,
   * so a long pass cycles through a few buffers instead of zeroing a fresh one per chunk.
   */
  async read(offset: number, length: number, signal?: AbortSignal, take?: () => ArrayBuffer): Promise<AssembledBytes> {
    if (length <= 0) return { bytes: new Uint8Array(0), own: true };
    if (offset < 0 || offset + length > this.size) throw new SlideError('INTERNAL', `${this.name}: a read lies outside the output`);
    const end = offset + length;
    let i = this.segmentAt(offset);
    const first = this.placed[i]!;
    let got: AssembledBytes;
    if (first.seg.kind === 'copy' && end <= first.end) {
      // Fast path: the whole range comes from one copy segment (TIFF tiles, DICOM pixel data).
      const src = this.parts[first.seg.part]!;
      const at = first.seg.offset + (offset - first.start);
      if (src.readInto && take) {
        const buffer = take();
        got = { bytes: checkLength(src, await src.readInto(at, length, buffer, signal), length), own: true, taken: buffer };
      } else {
        got = { bytes: await readPart(src, at, length, signal), own: src.freshReads === true };
      }
    } else {
      const buf = new Uint8Array(length);
      for (let pos = offset; pos < end; i++) {
        const s = this.placed[i]!;
        const n = Math.min(s.end, end) - pos;
        const bytes = s.seg.kind === 'copy'
          ? await readPart(this.parts[s.seg.part]!, s.seg.offset + (pos - s.start), n, signal)
          : s.seg.bytes.subarray(pos - s.start, pos - s.start + n);
        buf.set(bytes, pos - offset);
        pos += n;
      }
      got = { bytes: buf, own: true };
    }
    const touching = this.patchesIn(offset, end);
    if (touching.length > 0) {
      // Sources may hand out views of their own memory: patch a private copy.
      if (!got.own) got = { bytes: got.bytes.slice(), own: true };
      for (const x of touching) overlay(got.bytes, offset, x.p);
    }
    return got;
  }

  /** Index of the placed segment holding `offset` (binary search: views read at random). */
  private segmentAt(offset: number): number {
    let lo = 0;
    let hi = this.placed.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.placed[mid]!.start <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Patches overlapping [start, end), in plan order. */
  private patchesIn(start: number, end: number): PlacedPatch[] {
    const ps = this.patches;
    if (ps.length === 0) return [];
    // First patch whose running max end is past `start`, up to the first one starting at `end`.
    const lo = firstIndex(ps.length, (k) => this.maxEnd[k]! > start);
    const hi = firstIndex(ps.length, (k) => ps[k]!.start >= end);
    const out: PlacedPatch[] = [];
    for (let k = lo; k < hi; k++) if (ps[k]!.end > start) out.push(ps[k]!);
    return out.sort((a, b) => a.order - b.order);
  }
}

/** One chunk of an output read in order. */
export interface StreamedChunk {
  offset: number;
  bytes: Uint8Array;
  /** Memory of our own (see AssembledBytes.own). */
  own: boolean;
  /** Give back to the pool once the bytes are used (see AssembledBytes.taken). */
  taken?: ArrayBuffer;
}

export interface StreamOptions {
  chunkSize: number;
  signal?: AbortSignal;
  take?: () => ArrayBuffer;
  /** Chunks end at this offset too (a resume point), besides every chunkSize from it. */
  boundary?: number;
  /**
   * false: read a chunk only when next() asks for it (a caller that works ahead itself, e.g. the
   * zero-copy upload, so no chunk is read long before it is used). Default: one chunk ahead.
   */
  readAhead?: boolean;
}

/**
 * An output read once from its start, in chunks: assembled, then the text-bearing segments of its
 * JPEG / JPEG 2000 codestreams blanked as they stream by (codecs/segment-scrubber.ts). The next
 * chunk is read while the caller uses this one.
 */
export class OutputStream {
  private readonly scrubber: SegmentScrubber | undefined;
  private pos = 0;
  private pending: Promise<AssembledBytes> | undefined;
  private pendingAt = 0;

  constructor(private readonly asm: OutputAssembler, private readonly opts: StreamOptions) {
    this.scrubber = asm.plan.codestreams ? new SegmentScrubber(asm.plan.codestreams, 'blank') : undefined;
    if (opts.readAhead !== false) this.prefetch(0);
  }

  /** Text-bearing codestream segments blanked so far. */
  get blanked(): number {
    return this.scrubber?.blanked ?? 0;
  }

  /** Offset of the next chunk. */
  get offset(): number {
    return this.pos;
  }

  async next(): Promise<StreamedChunk | null> {
    throwIfAborted(this.opts.signal);
    const ahead = this.opts.readAhead !== false;
    if (!ahead) this.prefetch(this.pos);
    if (!this.pending) return null;
    const offset = this.pendingAt;
    const got = await this.pending;
    this.pos = offset + got.bytes.length;
    if (ahead) this.prefetch(this.pos);
    else this.pending = undefined;
    let bytes = got.bytes;
    if (this.scrubber) {
      // Our own memory may be blanked in place; a source's view not.
      bytes = this.scrubber.process(bytes, offset, () => (got.own ? bytes : bytes.slice()));
    }
    return { offset, bytes, own: got.own || bytes !== got.bytes, ...(got.taken ? { taken: got.taken } : {}) };
  }

  private prefetch(at: number): void {
    if (at >= this.asm.size) {
      this.pending = undefined;
      return;
    }
    const { chunkSize, boundary } = this.opts;
    let end = Math.min(this.asm.size, at + chunkSize);
    if (boundary !== undefined && at < boundary && end > boundary) end = boundary;
    this.pendingAt = at;
    this.pending = this.asm.read(at, end - at, this.opts.signal, this.opts.take);
    // Never fail the prefetch silently: it is awaited on the next turn.
    this.pending.catch(() => {});
  }
}

/** The smallest k in [0, n) with pred(k) true (pred monotone false…true), else n. */
export function firstIndex(n: number, pred: (k: number) => boolean): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (pred(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function checkLength(src: ByteSource, bytes: Uint8Array, length: number): Uint8Array {
  if (bytes.length !== length) throw new SlideError('TRUNCATED', `${src.name}: the file ended while it was being copied (did it change?)`);
  return bytes;
}

async function readPart(src: ByteSource, offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array> {
  return checkLength(src, await src.read(offset, length, signal), length);
}

function patchLength(p: Patch): number {
  return 'bytes' in p ? p.bytes.length : p.length;
}

function overlay(buf: Uint8Array, bufOffset: number, p: Patch): void {
  const len = patchLength(p);
  const from = Math.max(p.offset, bufOffset);
  const to = Math.min(p.offset + len, bufOffset + buf.length);
  if (from >= to) return;
  if ('bytes' in p) buf.set(p.bytes.subarray(from - p.offset, to - p.offset), from - bufOffset);
  else buf.fill(p.fill, from - bufOffset, to - bufOffset);
}
