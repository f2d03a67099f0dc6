import type { ClosableByteSource } from './object-store.ts';

export interface RangedSourceOptions {
  /** Bytes per cached block: every small read fetches (at least) a whole aligned block. */
  blockSize?: number;
  /** Blocks kept (least recently used dropped first). Memory: blockSize × maxBlocks. */
  maxBlocks?: number;
  /** Reads at least this long skip the cache: one GET of exactly their range. */
  directReadBytes?: number;
}

/**
 * An object behind ranged reads (S3 GETs) as the engine's ByteSource, with a block cache.
 *
 * Why: slide readers do many small reads — an IFD's entries, a tag's values, a tile's offsets —
 * close to each other. One GET each would be thousands of round trips per slide. Reads are
 * served from aligned blocks; the blocks a read misses are fetched with ONE GET per contiguous
 * run, and concurrent reads of the same block share the GET in flight. Long reads (a sweep's
 * 8 MiB chunks) go straight through, so they cannot evict the structure blocks that later small
 * reads need; once they run in sequence, the next one is fetched ahead.
 */
export class RangedSource implements ClosableByteSource {
  private readonly blockSize: number;
  private readonly maxBlocks: number;
  private readonly directReadBytes: number;
  /** The next long read, fetched while the caller works on the last one (sequential passes). */
  private ahead?: { offset: number; length: number; bytes: Promise<Uint8Array> };
  private lastDirectEnd = -1;
  /** Block index → its bytes (Map order = recency: re-inserted on use). */
  private readonly blocks = new Map<number, Promise<Uint8Array>>();
  /** Ranged requests made (tests and benchmarks read it). */
  fetches = 0;
  /** Every read is memory of its own: a block's slice is copied, a long read is its own GET's. */
  readonly freshReads = true;

  constructor(
    readonly size: number,
    readonly name: string,
    private readonly fetchRange: (offset: number, length: number, signal?: AbortSignal) => Promise<Uint8Array>,
    options: RangedSourceOptions = {},
  ) {
    this.blockSize = options.blockSize ?? 256 * 1024;
    this.maxBlocks = Math.max(4, options.maxBlocks ?? 64);
    this.directReadBytes = Math.min(options.directReadBytes ?? 1024 * 1024, (this.blockSize * this.maxBlocks) / 2);
  }

  async read(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array> {
    const end = Math.min(this.size, offset + Math.max(0, length));
    if (offset < 0 || !Number.isFinite(offset)) throw new RangeError('negative read offset');
    if (end <= offset) return new Uint8Array(0);
    // A sweep's short last chunk was fetched ahead already.
    const aheadHit = this.ahead?.offset === offset && this.ahead.length === end - offset;
    if (end - offset >= this.directReadBytes || aheadHit) return this.direct(offset, end - offset, signal);
    const first = Math.floor(offset / this.blockSize);
    const last = Math.floor((end - 1) / this.blockSize);
    // Cached blocks of this read become the most recent first, so fetching the rest cannot evict
    // them; all promises are taken before any await (a read spans at most maxBlocks/2 + 1 blocks).
    for (let b = first; b <= last; b++) this.touch(b);
    this.fetchMissing(first, last, signal);
    const pending: Promise<Uint8Array>[] = [];
    for (let b = first; b <= last; b++) pending.push(this.blocks.get(b) ?? Promise.reject(new Error('block evicted before use')));
    const parts = await Promise.all(pending);
    if (first === last) {
      const base = first * this.blockSize;
      // A copy: callers may patch what they read, and the block must stay as stored.
      return parts[0].slice(offset - base, end - base);
    }
    const out = new Uint8Array(end - offset);
    let at = 0;
    for (let i = 0; i < parts.length; i++) {
      const base = (first + i) * this.blockSize;
      const from = Math.max(offset, base) - base;
      const to = Math.min(end, base + parts[i].length) - base;
      out.set(parts[i].subarray(from, to), at);
      at += to - from;
    }
    return out;
  }

  async close(): Promise<void> {
    this.blocks.clear();
    this.ahead = undefined;
  }

  /**
   * A long read: one GET. When it continues the previous long read (a sweep's 8 MiB chunks), the
   * one after it is fetched meanwhile, so the GET overlaps the caller's work on this one.
   */
  private direct(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array> {
    const ahead = this.ahead;
    this.ahead = undefined;
    const bytes = ahead && ahead.offset === offset && ahead.length === length ? ahead.bytes : this.fetch(offset, length, signal);
    const end = offset + length;
    if (offset === this.lastDirectEnd && end < this.size) {
      const next = this.fetch(end, Math.min(length, this.size - end));
      next.catch(() => undefined); // a read-ahead nobody asks for, or that failed, is dropped
      this.ahead = { offset: end, length: Math.min(length, this.size - end), bytes: next };
    }
    this.lastDirectEnd = end;
    return bytes;
  }

  private async fetch(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array> {
    this.fetches++;
    return this.fetchRange(offset, length, signal);
  }

  /** Start one GET per run of consecutive blocks in [first, last] that are neither cached nor in flight. */
  private fetchMissing(first: number, last: number, signal?: AbortSignal): void {
    let runStart = -1;
    for (let b = first; b <= last + 1; b++) {
      const missing = b <= last && !this.blocks.has(b);
      if (missing && runStart < 0) runStart = b;
      if (!missing && runStart >= 0) {
        this.startRun(runStart, b - 1, signal);
        runStart = -1;
      }
    }
  }

  private startRun(first: number, last: number, signal?: AbortSignal): void {
    const offset = first * this.blockSize;
    const length = Math.min(this.size, (last + 1) * this.blockSize) - offset;
    const run = this.fetch(offset, length, signal);
    for (let b = first; b <= last; b++) {
      const from = (b - first) * this.blockSize;
      const block = run.then((bytes) => bytes.subarray(from, from + this.blockSize));
      // A failed fetch must not stay cached: the next read tries again.
      block.catch(() => {
        if (this.blocks.get(b) === block) this.blocks.delete(b);
      });
      this.blocks.set(b, block);
    }
    this.evict();
  }

  /** Mark a cached block as just used. */
  private touch(b: number): void {
    const block = this.blocks.get(b);
    if (!block) return;
    this.blocks.delete(b);
    this.blocks.set(b, block);
  }

  private evict(): void {
    for (const b of this.blocks.keys()) {
      if (this.blocks.size <= this.maxBlocks) break;
      this.blocks.delete(b);
    }
  }
}
