import { SlideError } from '../../../shared/errors.ts';
import type { ByteSink, ByteSource } from '../byte-source.ts';
import type { OutputTarget } from '../../redact/redact.ts';

/**
 * The part of FileSystemSyncAccessHandle used here. Declared locally because the DOM lib (which
 * type-checks the page that imports the worker API's types) does not have the worker-only type.
 */
export interface SyncAccessHandle {
  write(buffer: Uint8Array, options: { at: number }): number;
  read(buffer: Uint8Array, options: { at: number }): number;
  getSize(): number;
  truncate(size: number): void;
  flush(): void;
  close(): void;
}

/**
 * OPFS output through a FileSystemSyncAccessHandle (dedicated workers only). write() may write
 * fewer bytes than asked (Chromium returns a short count instead of throwing when storage runs
 * out), so every write loops and treats "no progress" as a quota error.
 */
export class OpfsSyncSink implements ByteSink {
  constructor(private readonly handle: SyncAccessHandle, readonly name: string) {}

  async write(offset: number, bytes: Uint8Array): Promise<void> {
    let done = 0;
    while (done < bytes.length) {
      let n: number;
      try {
        n = this.handle.write(bytes.subarray(done), { at: offset + done });
      } catch (e) {
        if (e instanceof DOMException && e.name === 'QuotaExceededError') throw new SlideError('QUOTA', `${this.name}: not enough storage for the de-identified copy`, { cause: e });
        throw new SlideError('IO', `${this.name}: writing the de-identified copy failed`, { cause: e });
      }
      if (n <= 0) throw new SlideError('QUOTA', `${this.name}: storage refused to write more (${offset + done} bytes written)`);
      done += n;
    }
  }
  async truncate(size: number): Promise<void> {
    this.handle.truncate(size);
  }
  async flush(): Promise<void> {
    this.handle.flush();
  }
  async close(): Promise<void> {
    this.handle.close();
  }
}

/**
 * A written OPFS output read back through a sync access handle, for the verification after a
 * redaction. Unlike a File's slices (a fresh ArrayBuffer per read, which the renderer kept ~0.4 GiB
 * of while reading back a 4.9 GiB output), readInto fills the caller's buffer: one pass over the
 * output reuses one buffer. The handle locks the file until close() (OpfsTarget.closeSource).
 */
export class OpfsSyncSource implements ByteSource {
  readonly size: number;
  constructor(private readonly handle: SyncAccessHandle, readonly name: string) {
    this.size = handle.getSize();
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    return this.fill(new Uint8Array(Math.max(0, Math.min(length, this.size - offset))), offset);
  }
  async readInto(offset: number, length: number, buffer: ArrayBuffer): Promise<Uint8Array> {
    return this.fill(new Uint8Array(buffer, 0, Math.max(0, Math.min(length, this.size - offset, buffer.byteLength))), offset);
  }
  close(): void {
    this.handle.close();
  }
  private fill(out: Uint8Array, offset: number): Uint8Array {
    let done = 0;
    while (done < out.length) {
      const n = this.handle.read(out.subarray(done), { at: offset + done });
      if (n <= 0) return out.subarray(0, done);
      done += n;
    }
    return out;
  }
}

/** Walk (creating) a "a/b/c" directory path under the OPFS root. */
export async function opfsDir(path: string, create = true): Promise<FileSystemDirectoryHandle> {
  let dir = await navigator.storage.getDirectory();
  for (const part of path.split('/').filter(Boolean)) dir = await dir.getDirectoryHandle(part, { create });
  return dir;
}

/** An OPFS directory as an OutputTarget; output names may contain "/" (sub-folders). */
export class OpfsTarget implements OutputTarget {
  constructor(readonly root: FileSystemDirectoryHandle) {}

  private async parent(name: string, create: boolean): Promise<{ dir: FileSystemDirectoryHandle; file: string }> {
    const parts = name.split('/').filter(Boolean);
    const file = parts.pop();
    if (!file || parts.includes('..') || file === '..') throw new SlideError('BAD_REQUEST', `invalid output name "${name}"`);
    let dir = this.root;
    for (const p of parts) dir = await dir.getDirectoryHandle(p, { create });
    return { dir, file };
  }

  async createSink(name: string): Promise<ByteSink> {
    const { dir, file } = await this.parent(name, true);
    const fh = await dir.getFileHandle(file, { create: true });
    const handle = await (fh as unknown as { createSyncAccessHandle(): Promise<SyncAccessHandle> }).createSyncAccessHandle();
    handle.truncate(0);
    return new OpfsSyncSink(handle, name);
  }

  async openSource(name: string): Promise<ByteSource> {
    const { dir, file } = await this.parent(name, false);
    const fh = await dir.getFileHandle(file);
    return new OpfsSyncSource(await (fh as unknown as { createSyncAccessHandle(): Promise<SyncAccessHandle> }).createSyncAccessHandle(), name);
  }

  async closeSource(source: ByteSource): Promise<void> {
    if (source instanceof OpfsSyncSource) source.close();
  }

  async remove(name: string): Promise<void> {
    const { dir, file } = await this.parent(name, false);
    await dir.removeEntry(file);
  }
}
