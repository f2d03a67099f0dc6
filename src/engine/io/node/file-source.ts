import { open, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import type { ByteSink, ByteSource } from '../byte-source.ts';
import { SlideError } from '../../../shared/errors.ts';

/** A file on disk as a ByteSource. Call close() when done. */
export class NodeFileSource implements ByteSource {
  private constructor(private readonly fh: FileHandle, readonly size: number, readonly name: string, readonly path: string) {}

  static async open(path: string, name = basename(path)): Promise<NodeFileSource> {
    try {
      const fh = await open(path, 'r');
      const st = await fh.stat();
      return new NodeFileSource(fh, st.size, name, path);
    } catch (e) {
      throw new SlideError('IO', `${name}: cannot open file (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { cause: e });
    }
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    return this.fill(offset, new Uint8Array(Math.max(0, Math.min(length, this.size - offset))));
  }

  async readInto(offset: number, length: number, buffer: ArrayBuffer): Promise<Uint8Array> {
    return this.fill(offset, new Uint8Array(buffer, 0, Math.max(0, Math.min(length, this.size - offset))));
  }

  private async fill(offset: number, buf: Uint8Array): Promise<Uint8Array> {
    const n = buf.length;
    let done = 0;
    while (done < n) {
      const { bytesRead } = await this.fh.read(buf, done, n - done, offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done === n ? buf : buf.subarray(0, done);
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

/** A file on disk as a ByteSink (created or truncated). */
export class NodeFileSink implements ByteSink {
  private constructor(private readonly fh: FileHandle) {}
  static async create(path: string): Promise<NodeFileSink> {
    return new NodeFileSink(await open(path, 'w'));
  }
  async write(offset: number, bytes: Uint8Array): Promise<void> {
    let done = 0;
    while (done < bytes.length) {
      const { bytesWritten } = await this.fh.write(bytes, done, bytes.length - done, offset + done);
      done += bytesWritten;
    }
  }
  async truncate(size: number): Promise<void> {
    await this.fh.truncate(size);
  }
  async flush(): Promise<void> {
    await this.fh.sync();
  }
  async close(): Promise<void> {
    await this.fh.close();
  }
}
