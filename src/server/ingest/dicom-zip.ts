import { createReadStream } from 'node:fs';
import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Unzip, UnzipInflate, type UnzipFile } from 'fflate';
import { SlideError } from '../../shared/errors.ts';

/** True when the file starts with a zip local-file header. */
export async function isZip(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(4);
    const { bytesRead } = await fh.read(b, 0, 4, 0);
    return bytesRead === 4 && b.readUInt32LE(0) === 0x04034b50;
  } finally {
    await fh.close();
  }
}

export interface ExtractLimits {
  /** Total bytes all entries may inflate to (DICOM or not): the zip-bomb bound. */
  maxBytes: number;
  /** Entries (files) the archive may hold: a million tiny entries is an attack, not a slide. */
  maxEntries: number;
}

export interface ExtractedFile {
  /** Absolute path, named by us. */
  path: string;
  size: number;
  sha256: string;
  /** 1-based position among the archive's DICOM files (archive order). */
  index: number;
}

const preambleBytes = 132;

/** Our name for the n-th DICOM file: zero-padded so that name order is archive order. */
export function instanceName(n: number): string {
  return `instance-${String(n).padStart(6, '0')}.dcm`;
}

/**
 * Stream-extract the DICOM files of a zipped DICOM folder (Direct Upload) into `destDir`, named by
 * us (instanceName) — never by the archive's paths, so an entry like ../../x cannot escape.
 * An entry is kept only if it starts with the DICM preamble; anything else (DICOMDIR, READMEs, macOS
 * resource forks) is skipped without being written. Every inflated byte counts against
 * `limits.maxBytes`, skipped entries included. Returns the kept files in archive order, each with
 * its size and SHA-256 (computed on the way, so the files are never read back for it).
 */
export async function extractDicomZip(zipPath: string, destDir: string, limits: ExtractLimits, signal?: AbortSignal): Promise<ExtractedFile[]> {
  await rm(destDir, { recursive: true, force: true });
  await mkdir(destDir, { recursive: true });
  const kept: ExtractedFile[] = [];
  const openFiles = new Set<FileHandle>();
  let entries = 0;
  let total = 0;
  let failure: unknown;
  const fail = (e: unknown): void => {
    failure ??= e;
  };
  // Writes are chained so they happen in order; the reader waits for them after every chunk (back-pressure).
  let writes: Promise<void> = Promise.resolve();
  const chain = (f: () => Promise<void>): void => {
    writes = writes.then(f).catch(fail);
  };

  const onFile = (file: UnzipFile): void => {
    const base = file.name.split('/').pop() ?? '';
    if (file.name.endsWith('/') || base === '' || base.startsWith('._') || file.name.startsWith('__MACOSX/') || base.toUpperCase() === 'DICOMDIR') return;
    if (++entries > limits.maxEntries) return fail(new SlideError('BAD_REQUEST', `the zip holds more than ${limits.maxEntries} files`));
    // Bytes are held back until the preamble decides whether the entry is DICOM at all.
    let head: Buffer[] = [];
    let headLength = 0;
    let decided: 'dicom' | 'skip' | undefined;
    let fh: FileHandle | undefined;
    let out: ExtractedFile | undefined;
    const hash = createHash('sha256');
    const keep = (chunks: Buffer[]): void => {
      for (const c of chunks) hash.update(c);
      const data = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      const target = out!;
      target.size += data.length;
      chain(async () => {
        if (!fh) openFiles.add((fh = await open(target.path, 'wx')));
        await fh.write(data);
      });
    };
    file.ondata = (err, chunk, final) => {
      if (err) return fail(err);
      if (failure) return;
      total += chunk.length;
      if (total > limits.maxBytes) {
        file.terminate();
        return fail(new SlideError('BAD_REQUEST', `the zip expands to more than ${limits.maxBytes} bytes, the most the server accepts`));
      }
      const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      if (decided === undefined) {
        head.push(buf);
        headLength += buf.length;
        if (headLength < preambleBytes && !final) return;
        const start = Buffer.concat(head);
        decided = start.length >= preambleBytes && start.toString('latin1', 128, 132) === 'DICM' ? 'dicom' : 'skip';
        head = [];
        if (decided === 'skip') {
          // Not DICOM: stop inflating it (its bytes so far still counted against the limit).
          if (!final) file.terminate();
          return;
        }
        out = { path: join(destDir, instanceName(kept.length + 1)), size: 0, sha256: '', index: kept.length + 1 };
        kept.push(out);
        keep([start]);
      } else if (decided === 'dicom') keep([buf]);
      if (final && decided === 'dicom') {
        const target = out!;
        target.sha256 = hash.digest('hex');
        chain(async () => {
          if (!fh) openFiles.add((fh = await open(target.path, 'wx')));
          openFiles.delete(fh);
          await fh.close();
        });
      }
    };
    file.start();
  };

  const unzip = new Unzip(onFile);
  unzip.register(UnzipInflate);
  const stream = createReadStream(zipPath, { highWaterMark: 1024 * 1024, ...(signal ? { signal } : {}) });
  try {
    for await (const chunk of stream) {
      unzip.push(chunk as Buffer);
      await writes;
      if (failure) break;
    }
    if (!failure) unzip.push(new Uint8Array(0), true);
    await writes;
    // An archive cut short leaves its last entry unfinished: no final chunk, no hash.
    if (!failure && kept.some((f) => f.sha256 === '')) fail(new Error('zip ended inside an entry'));
  } catch (e) {
    fail(e);
  } finally {
    stream.destroy();
  }
  if (failure) {
    await Promise.allSettled([...openFiles].map((f) => f.close()));
    await rm(destDir, { recursive: true, force: true });
    if (failure instanceof SlideError) throw failure;
    throw new SlideError('CORRUPT', 'the zip file could not be read', { cause: failure });
  }
  if (kept.length === 0) {
    await rm(destDir, { recursive: true, force: true });
    throw new SlideError('NOT_RECOGNIZED', 'the zip file contains no DICOM files');
  }
  return kept;
}
