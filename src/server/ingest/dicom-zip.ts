import { createReadStream } from 'node:fs';
import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Unzip, UnzipInflate } from 'fflate';
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

/**
 * Stream-extract the DICOM files of a zipped DICOM folder (Direct Upload) into `destDir`, named by
 * us (instance-N.dcm) — never by the archive's paths, so an entry like ../../x cannot escape.
 * Entries without the DICM preamble (DICOMDIR aside, READMEs, macOS resource forks) are skipped.
 * `maxBytes` bounds the total extracted size (zip bombs). Returns the extracted paths in archive order.
 */
export async function extractDicomZip(zipPath: string, destDir: string, maxBytes: number, signal?: AbortSignal): Promise<string[]> {
  await rm(destDir, { recursive: true, force: true });
  await mkdir(destDir, { recursive: true });
  const kept: string[] = [];
  let entries = 0;
  let total = 0;
  let failure: unknown;
  // Writes are chained so they happen in order; the reader waits for them after every chunk (back-pressure).
  let writes: Promise<void> = Promise.resolve();
  const chain = (f: () => Promise<void>): void => {
    writes = writes.then(f).catch((e: unknown) => {
      failure ??= e;
    });
  };

  const unzip = new Unzip((file) => {
    const base = file.name.split('/').pop() ?? '';
    if (file.name.endsWith('/') || base === '' || base.startsWith('._') || file.name.startsWith('__MACOSX/') || base.toUpperCase() === 'DICOMDIR') return;
    const path = join(destDir, `instance-${++entries}.dcm`);
    kept.push(path);
    let fh: FileHandle | undefined;
    let head = Buffer.alloc(0);
    chain(async () => {
      fh = await open(path, 'w');
    });
    file.ondata = (err, chunk, final) => {
      if (err) {
        failure ??= err;
        return;
      }
      total += chunk.length;
      if (total > maxBytes) {
        failure ??= new SlideError('BAD_REQUEST', 'the zip expands to more than the server accepts');
        return;
      }
      if (head.length < 132) head = Buffer.concat([head, chunk.subarray(0, 132 - head.length)]);
      const data = chunk;
      chain(async () => {
        await fh!.write(data);
      });
      if (final) {
        const isDicom = head.length >= 132 && head.toString('latin1', 128, 132) === 'DICM';
        chain(async () => {
          await fh!.close();
          if (!isDicom) {
            await rm(path, { force: true });
            kept.splice(kept.indexOf(path), 1);
          }
        });
      }
    };
    file.start();
  });
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
  } catch (e) {
    failure ??= e;
  } finally {
    stream.destroy();
  }
  if (failure) {
    await rm(destDir, { recursive: true, force: true });
    if (failure instanceof SlideError) throw failure;
    throw new SlideError('CORRUPT', 'the zip file could not be read', { cause: failure });
  }
  if (kept.length === 0) throw new SlideError('NOT_RECOGNIZED', 'the zip file contains no DICOM files');
  return kept;
}
