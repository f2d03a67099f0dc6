import type { ByteSource } from './byte-source.ts';

/** Wraps a source and counts what is read through it (tests and the inspect benchmark). */
export class RecordingSource implements ByteSource {
  readonly size: number;
  readonly name: string;
  bytesRead = 0;
  reads = 0;
  constructor(readonly inner: ByteSource) {
    this.size = inner.size;
    this.name = inner.name;
  }
  async read(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array> {
    const bytes = await this.inner.read(offset, length, signal);
    this.reads++;
    this.bytesRead += bytes.length;
    return bytes;
  }
}
