/**
 * OPFS helpers for test and bench workers that generate big inputs: open a file by path with a
 * sync access handle, and write a whole buffer (Chromium returns a short count instead of throwing
 * when storage runs out, so every write()'s return value is checked).
 */
import type { SyncAccessHandle } from '../../src/engine/io/web/opfs.ts';

export type SyncHandle = SyncAccessHandle & { getSize(): number };

/** The file at "a/b/name" under the OPFS root (directories created when `create`). */
export async function opfsFileHandle(path: string, create: boolean): Promise<FileSystemFileHandle> {
  let d = await navigator.storage.getDirectory();
  const parts = path.split('/').filter(Boolean);
  const name = parts.pop()!;
  for (const p of parts) d = await d.getDirectoryHandle(p, { create });
  return d.getFileHandle(name, { create });
}

export async function openSyncHandle(path: string): Promise<SyncHandle> {
  const fh = await opfsFileHandle(path, true);
  return (fh as unknown as { createSyncAccessHandle(): Promise<SyncHandle> }).createSyncAccessHandle();
}

export function writeAll(h: SyncHandle, bytes: Uint8Array, at: number): void {
  let done = 0;
  while (done < bytes.length) {
    const n = h.write(bytes.subarray(done), { at: at + done });
    if (n <= 0) throw new Error(`OPFS write returned ${n} at ${at + done}`);
    done += n;
  }
}
