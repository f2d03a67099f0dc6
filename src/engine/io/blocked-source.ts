import type { ByteSource } from './byte-source.ts';

/**
 * A ByteSource with an LRU cache of fixed-size blocks in front of another source. The TIFF parser
 * makes many tiny reads (IFD entries, short values, single tile offsets) that cluster together;
 * aligning them to blocks turns them into a few reads and lets neighbouring tile lookups share
 * one read. Large reads (tile data, copy chunks) bypass the cache so it never holds pixel data.
 */
export class BlockedSource implements ByteSource {
  readonly size: number;
  readonly name: string;
  private readonly blocks = new Map<number, Promise<Uint8Array>>();

  constructor(
    readonly inner: ByteSource,
    readonly blockSize = 32 * 1024,
    readonly maxBlocks = 64,
  ) {
    this.size = inner.size;
    this.name = inner.name;
  }

  async read(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array> {
    const end = Math.min(this.size, offset + length);
    if (offset >= end) return new Uint8Array(0);
    if (end - offset >= this.blockSize * 2) return this.inner.read(offset, end - offset, signal);
    const first = Math.floor(offset / this.blockSize);
    const last = Math.floor((end - 1) / this.blockSize);
    if (first === last) {
      const block = await this.block(first, signal);
      const start = offset - first * this.blockSize;
      return block.subarray(start, start + (end - offset));
    }
    const out = new Uint8Array(end - offset);
    for (let b = first; b <= last; b++) {
      const block = await this.block(b, signal);
      const blockStart = b * this.blockSize;
      const from = Math.max(offset, blockStart);
      const to = Math.min(end, blockStart + block.length);
      out.set(block.subarray(from - blockStart, to - blockStart), from - offset);
    }
    return out;
  }

  private block(index: number, signal?: AbortSignal): Promise<Uint8Array> {
    const hit = this.blocks.get(index);
    if (hit) {
      // Refresh recency: Map iteration order is insertion order.
      this.blocks.delete(index);
      this.blocks.set(index, hit);
      return hit;
    }
    const p = this.inner.read(index * this.blockSize, this.blockSize, signal);
    this.blocks.set(index, p);
    // A failed read must not poison the cache.
    p.catch(() => this.blocks.delete(index));
    while (this.blocks.size > this.maxBlocks) {
      const oldest = this.blocks.keys().next().value as number;
      this.blocks.delete(oldest);
    }
    return p;
  }
}
