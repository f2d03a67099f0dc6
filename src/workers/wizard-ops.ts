import { Zip, ZipPassThrough } from 'fflate';
import { Sha256 } from '../engine/redact/sha256.ts';
import { SlideError } from '../shared/errors.ts';

/**
 * Worker-side operations the import wizard needs besides inspection and redaction: hashing an
 * original for Direct Upload and zipping a multi-file DICOM slide's staged outputs. They run in the
 * engine worker (added to engineApi) so the page never reads a slide into its own memory.
 */

const CHUNK = 8 * 1024 * 1024;

/** SHA-256 (hex) of a File, streamed in 8 MiB slices. */
export async function sha256OfBlob(blob: Blob, onProgress?: (done: number, total: number) => void, signal?: AbortSignal): Promise<string> {
  const h = new Sha256();
  for (let off = 0; off < blob.size; off += CHUNK) {
    if (signal?.aborted) throw new SlideError('ABORTED', 'cancelled');
    h.update(new Uint8Array(await blob.slice(off, Math.min(blob.size, off + CHUNK)).arrayBuffer()));
    onProgress?.(Math.min(blob.size, off + CHUNK), blob.size);
  }
  return h.digestHex();
}

async function opfsFile(path: string, create: boolean): Promise<FileSystemFileHandle> {
  const parts = path.split('/');
  const name = parts.pop()!;
  let dir = await navigator.storage.getDirectory();
  for (const p of parts) dir = await dir.getDirectoryHandle(p, { create });
  return dir.getFileHandle(name, { create });
}

/**
 * Zip staged OPFS files into `zipPath` (stored, not deflated: slide tiles are already compressed).
 * fflate writes no Zip64, so the caller keeps the total under 4 GiB. Returns the zip's size.
 */
export async function zipOpfsFiles(paths: string[], names: string[], zipPath: string): Promise<{ size: number }> {
  const out = await (await opfsFile(zipPath, true)).createSyncAccessHandle();
  let at = 0;
  let failure: unknown;
  try {
    out.truncate(0);
    const zip = new Zip((err, chunk) => {
      if (err) failure ??= err;
      if (failure || !chunk) return;
      const n = out.write(chunk, { at });
      // A short write means the disk is full: the sync API reports it only in the return value.
      if (n !== chunk.length) failure = new SlideError('QUOTA', 'not enough disk space for the zip file');
      at += n;
    });
    for (let i = 0; i < paths.length; i++) {
      const entry = new ZipPassThrough(names[i]);
      zip.add(entry);
      const file = await (await opfsFile(paths[i], false)).getFile();
      if (file.size === 0) entry.push(new Uint8Array(0), true);
      for (let off = 0; off < file.size; off += CHUNK) {
        const end = Math.min(file.size, off + CHUNK);
        entry.push(new Uint8Array(await file.slice(off, end).arrayBuffer()), end === file.size);
        if (failure) throw failure;
      }
    }
    zip.end();
    if (failure) throw failure;
    out.flush();
    return { size: at };
  } finally {
    out.close();
  }
}
