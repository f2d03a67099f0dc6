import type { ByteSink, ByteSource } from './byte-source.ts';

/** In-memory source, for tests and small generated inputs. */
export class BufferSource implements ByteSource {
  readonly size: number;
  constructor(readonly bytes: Uint8Array, readonly name = 'buffer') {
    this.size = bytes.length;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    const start = Math.min(offset, this.size);
    return this.bytes.subarray(start, Math.min(this.size, start + length));
  }
}

/** In-memory sink that grows as written. */
export class BufferSink implements ByteSink {
  private buf = new Uint8Array(1024);
  private length = 0;
  async write(offset: number, bytes: Uint8Array): Promise<void> {
    const end = offset + bytes.length;
    if (end > this.buf.length) {
      const next = new Uint8Array(Math.max(end, this.buf.length * 2));
      next.set(this.buf.subarray(0, this.length));
      this.buf = next;
    }
    this.buf.set(bytes, offset);
    this.length = Math.max(this.length, end);
  }
  async truncate(size: number): Promise<void> {
    if (size < this.length) this.buf.fill(0, size, this.length);
    this.length = size;
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}
