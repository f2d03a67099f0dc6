import { createReadStream } from 'node:fs';
import { formatBytes } from '../../shared/format-bytes.ts';
import { open as openFile, mkdir, rm, type FileHandle } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createInflateRaw, crc32 } from 'node:zlib';
import * as yauzl from 'yauzl';
import type { Entry, ZipFile } from 'yauzl';
import { SlideError, type ErrorCode } from '../../shared/errors.ts';

/** True when the file starts with a zip local-file header. */
export async function isZip(path: string): Promise<boolean> {
  const fh = await openFile(path, 'r');
  try {
    const b = Buffer.alloc(4);
    const { bytesRead } = await fh.read(b, 0, 4, 0);
    return bytesRead === 4 && b.readUInt32LE(0) === 0x04034b50;
  } finally {
    await fh.close();
  }
}

/**
 * Most a zip entry (and the zip as a whole) may expand relative to its compressed size. Deflate
 * cannot exceed ~1032:1, and every zip bomb sits there; DICOM WSI pixel data is JPEG / JPEG 2000,
 * which deflate leaves at ~1:1, and even uncompressed pixel data from a camera (sensor noise)
 * rarely passes 10:1. 200:1 leaves a 20× margin for real slides and caps what a 1 MB upload can
 * make the server inflate at 200 MB.
 */
export const maxZipRatio = 200;

/**
 * Expansion below this many bytes is never judged by ratio: small files of zeros (padding, empty
 * overlays, a blank label) legitimately compress 1000:1 and cost nothing. Many such entries are
 * still bounded by the whole-zip ratio and `maxBytes`.
 */
export const ratioFloorBytes = 8 * 1024 * 1024;

/**
 * Largest single file taken from a zip. An uncompressed DICOM instance cannot pass 4 GiB (32-bit
 * element length); an encapsulated one holding a whole 40× level in JPEG 2000 lossless reaches
 * ~15 GiB. 32 GiB leaves room for that without letting one entry take the whole extract budget.
 */
export const maxZipEntryBytes = 32 * 1024 ** 3;

export interface ExtractLimits {
  /** Total bytes all entries may inflate to (DICOM or not): the zip-bomb bound. */
  maxBytes: number;
  /** Entries (files and folders) the archive may hold: a million tiny entries is an attack, not a slide. */
  maxEntries: number;
  /** One entry's inflated size; default min(maxBytes, maxZipEntryBytes). */
  maxEntryBytes?: number;
  /** Inflated ÷ compressed, per entry and for the whole zip (above ratioFloorBytes); default maxZipRatio. */
  maxRatio?: number;
  /** Bytes the extraction may write (free disk less a reserve): refused up front with QUOTA when the DICOM files need more. */
  diskBytes?: number;
}

export interface ExtractOptions {
  /** How errors name the archive: the upload's scan ("scan 12"), never the client's file names. */
  label?: string;
  signal?: AbortSignal;
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
/** Inflate output chunk: small enough that one step of zlib is well under a millisecond of JS. */
const inflateChunk = 256 * 1024;
/** Stored bytes are read, and extracted bytes written, in pieces of about this size. */
const ioChunk = 1024 * 1024;
/** Deflated bytes are read in pieces of this size (up to ~1000× as much output each). */
const deflatedReadChunk = 64 * 1024;

/** Our name for the n-th DICOM file: zero-padded so that name order is archive order. */
export function instanceName(n: number): string {
  return `instance-${String(n).padStart(6, '0')}.dcm`;
}

/** Entries never extracted, by name alone: folders, macOS resource forks, the DICOMDIR index. */
function skippedByName(entry: Entry): boolean {
  // decodeStrings is off (yauzl would refuse ../ names with the name in the message); the checks
  // below only look at ASCII, which reads the same in CP437 and UTF-8.
  const name = entry.fileNameRaw.toString('latin1');
  const base = name.split('/').pop() ?? '';
  return name.endsWith('/') || base === '' || base.startsWith('._') || name.startsWith('__MACOSX/') || base.toUpperCase() === 'DICOMDIR';
}

/** One archive entry as planned: where its data lies and whether it may be DICOM. */
interface Planned {
  entry: Entry;
  /** 1-based, archive (offset) order: how messages name it, never by its path. */
  n: number;
  dataStart: number;
  candidate: boolean;
}

/** Thrown inside an entry's pipeline when its preamble says it is not DICOM: stop reading it. */
class NotDicom extends Error {}

/**
 * Stream-extract the DICOM files of a zipped DICOM folder (Direct Upload) into `destDir`, named by
 * us (instanceName) — never by the archive's paths, so an entry like ../../x cannot escape.
 *
 * Zip bombs: the central directory is read first, and the archive is refused before anything is
 * inflated when it holds too many entries, declares more than the limits (total, per entry, ratio
 * per entry and for the whole zip) or has entries whose data overlap (the overlapping-file bomb,
 * which makes one compressed kernel count many times). Then every entry is inflated in small
 * steps on zlib's thread pool (the event loop only sees 256 KiB chunks) and the same limits are
 * checked on the bytes actually produced, chunk by chunk, so a directory that lies about sizes is
 * stopped at its first excess byte; sizes and CRC-32 must match the directory at the end.
 *
 * An entry is kept only if it starts with the DICM preamble; anything else (DICOMDIR, READMEs,
 * nested zips, macOS resource forks) is skipped after at most its first chunk, never written, never
 * opened. Returns the kept files in archive order, each with its size and SHA-256 (computed on the
 * way). On any failure `destDir` is removed: nothing partial is left.
 */
export async function extractDicomZip(zipPath: string, destDir: string, limits: ExtractLimits, options: ExtractOptions = {}): Promise<ExtractedFile[]> {
  const { signal } = options;
  const label = options.label ?? 'the zip';
  const refuse = (message: string, code: ErrorCode = 'BAD_REQUEST') => new SlideError(code, `${label}: ${message}`);
  const maxEntryBytes = Math.min(limits.maxEntryBytes ?? maxZipEntryBytes, limits.maxBytes);
  const maxRatio = limits.maxRatio ?? maxZipRatio;
  /** Whether `inflated` bytes from `compressed` bytes pass the ratio limit. */
  const ratioOk = (inflated: number, compressed: number) => inflated <= Math.max(ratioFloorBytes, maxRatio * compressed);

  await rm(destDir, { recursive: true, force: true });
  let zip: ZipFile | undefined;
  const openFiles = new Set<FileHandle>();
  try {
    try {
      zip = await yauzl.openPromise(zipPath, { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: false });
    } catch (e) {
      throw new SlideError('CORRUPT', `${label}: not a readable zip file`, { cause: e });
    }
    const plan = await planEntries(zip, limits, maxEntryBytes, ratioOk, refuse);
    const needed = plan.filter((p) => p.candidate).reduce((s, p) => s + p.entry.uncompressedSize, 0);
    if (limits.diskBytes !== undefined && needed > limits.diskBytes) {
      throw refuse(`not enough disk space on the server to unpack it (${formatBytes(needed)} needed, ${formatBytes(Math.max(0, limits.diskBytes))} free)`, 'QUOTA');
    }
    await mkdir(destDir, { recursive: true });

    const kept: ExtractedFile[] = [];
    const totals = { inflated: 0, compressed: 0 };
    for (const p of plan) {
      if (signal?.aborted) throw new SlideError('ABORTED', 'cancelled');
      if (!p.candidate) continue;
      const out = await extractEntry(p, join(destDir, instanceName(kept.length + 1)), kept.length + 1, totals, openFiles);
      if (out) kept.push(out);
    }
    if (kept.length === 0) throw refuse('the zip file contains no DICOM files', 'NOT_RECOGNIZED');
    return kept;
  } catch (e) {
    await Promise.allSettled([...openFiles].map((f) => f.close()));
    await rm(destDir, { recursive: true, force: true });
    if (e instanceof SlideError) throw e;
    if ((e as NodeJS.ErrnoException).code === 'ENOSPC') throw refuse('the server ran out of disk space while unpacking it', 'QUOTA');
    if (signal?.aborted) throw new SlideError('ABORTED', 'cancelled', { cause: e });
    throw new SlideError('CORRUPT', `${label}: the zip file could not be read`, { cause: e });
  } finally {
    zip?.close();
  }

  /**
   * Inflate one entry through the limit checks into `path` when it turns out to be DICOM. Returns
   * undefined for an entry that is not DICOM (nothing written).
   */
  async function extractEntry(p: Planned, path: string, index: number, totals: { inflated: number; compressed: number }, openFiles: Set<FileHandle>): Promise<ExtractedFile | undefined> {
    const { entry, n } = p;
    let compressed = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
        compressed += chunk.length;
        totals.compressed += chunk.length;
        done(null, chunk);
      },
    });
    const hash = createHash('sha256');
    let crc = 0;
    let inflated = 0;
    let fh: FileHandle | undefined;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let head: Buffer | undefined;
    const flush = async (): Promise<void> => {
      if (pendingBytes === 0) return;
      if (!fh) openFiles.add((fh = await openFile(path, 'wx')));
      const batch = pending;
      pending = [];
      pendingBytes = 0;
      await fh.writev(batch);
    };
    // Why the sink stopped: pipeline reports the source's AbortError (the iterator destroys it)
    // rather than the sink's own error, so the reason is kept here.
    let stop: Error | undefined;
    const sink = async (source: AsyncIterable<Buffer>): Promise<void> => {
      try {
        await consume(source);
      } catch (e) {
        stop ??= e as Error; // a refusal, NotDicom, or the disk (ENOSPC)
        throw e;
      }
    };
    const consume = async (source: AsyncIterable<Buffer>): Promise<void> => {
      for await (const chunk of source) {
        stop = check(chunk);
        if (stop) throw stop;
        crc = crc32(chunk, crc);
        hash.update(chunk);
        if (head === undefined) {
          // The preamble decides whether the entry is DICOM at all; until then bytes are held back.
          pending.push(chunk);
          pendingBytes += chunk.length;
          if (pendingBytes < preambleBytes) continue;
          head = Buffer.concat(pending);
          if (head.toString('latin1', 128, 132) !== 'DICM') throw (stop = new NotDicom());
          pending = [head];
          continue;
        }
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes >= ioChunk) await flush();
      }
    };
    /**
     * The limits, on the bytes actually produced: a directory that lied is caught at its first
     * excess chunk. The total and per-entry checks repeat what the declared sizes already passed,
     * so the bound never rests on one check alone.
     */
    const check = (chunk: Buffer): Error | undefined => {
      inflated += chunk.length;
      totals.inflated += chunk.length;
      if (inflated > entry.uncompressedSize) return refuse(`entry ${n} holds more data than the zip's directory says: damaged or forged`, 'CORRUPT');
      if (totals.inflated > limits.maxBytes) return refuse(`the zip expands to more than ${formatBytes(limits.maxBytes)}, the most the server unpacks from one zip`);
      if (inflated > maxEntryBytes) return refuse(`entry ${n} expands to more than ${formatBytes(maxEntryBytes)}, the most the server takes for one file`);
      if (!ratioOk(inflated, compressed) || !ratioOk(totals.inflated, totals.compressed)) return refuse(`the zip expands more than ${maxRatio} times its size: refused as a possible zip bomb`);
      return undefined;
    };
    try {
      const opts = signal ? { signal } : {};
      // The entry's compressed bytes, read directly (yauzl's own streams read 16 KiB at a time);
      // no bytes at all cannot be expressed as a read range (and cannot be DICOM).
      // Deflated data is read in small pieces so the running ratio compares the output with what
      // was actually consumed, not with a megabyte read ahead.
      const readChunk = entry.compressionMethod === 8 ? deflatedReadChunk : ioChunk;
      const raw = () => createReadStream(zipPath, { start: p.dataStart, end: p.dataStart + entry.compressedSize - 1, highWaterMark: readChunk });
      if (entry.compressedSize === 0) {
        // nothing to read: the size check below refuses it
      } else if (entry.compressionMethod === 8) await pipeline(raw(), counter, createInflateRaw({ chunkSize: inflateChunk }), sink, opts);
      else await pipeline(raw(), counter, sink, opts);
    } catch (e) {
      if (stop instanceof NotDicom) return undefined;
      throw stop ?? e;
    }
    if (inflated !== entry.uncompressedSize) throw refuse(`entry ${n} holds less data than the zip's directory says: damaged or forged`, 'CORRUPT');
    if (head === undefined) return undefined; // cannot happen (candidates declare >= a preamble), kept for the type
    if ((crc >>> 0) !== (entry.crc32 >>> 0)) throw refuse(`entry ${n} is damaged (its checksum does not match)`, 'CORRUPT');
    await flush();
    if (!fh) openFiles.add((fh = await openFile(path, 'wx')));
    openFiles.delete(fh);
    await fh.close();
    return { path, size: inflated, sha256: hash.digest('hex'), index };
  }
}

/**
 * Read the central directory and decide, before a byte is inflated, whether the archive is within
 * the limits by what it declares; find each entry's data (local header) and refuse overlaps.
 */
async function planEntries(
  zip: ZipFile,
  limits: ExtractLimits,
  maxEntryBytes: number,
  ratioOk: (inflated: number, compressed: number) => boolean,
  refuse: (message: string, code?: ErrorCode) => SlideError,
): Promise<Planned[]> {
  // The end record's count first: a million-entry directory is refused without being walked.
  if (zip.entryCount > limits.maxEntries) throw refuse(`the zip holds ${zip.entryCount} files, more than the ${limits.maxEntries} the server accepts`);
  const entries: Entry[] = [];
  for await (const entry of zip.eachEntry()) entries.push(entry);
  entries.sort((a, b) => a.relativeOffsetOfLocalHeader - b.relativeOffsetOfLocalHeader);
  let declared = 0;
  const plan: Planned[] = [];
  let end = 0;
  for (const [i, entry] of entries.entries()) {
    const n = i + 1;
    declared += entry.uncompressedSize;
    if (declared > limits.maxBytes) throw refuse(`the zip expands to more than ${formatBytes(limits.maxBytes)}, the most the server unpacks from one zip`);
    if (entry.uncompressedSize > maxEntryBytes) throw refuse(`entry ${n} expands to ${formatBytes(entry.uncompressedSize)}, more than the ${formatBytes(maxEntryBytes)} the server takes for one file`);
    if (!ratioOk(entry.uncompressedSize, entry.compressedSize)) {
      throw refuse(`entry ${n} expands ${Math.round(entry.uncompressedSize / Math.max(1, entry.compressedSize))} times its compressed size (at most ${limits.maxRatio ?? maxZipRatio}): refused as a possible zip bomb`);
    }
    // A DICOM file is at least its preamble; shorter entries are skipped without being read.
    const candidate = !skippedByName(entry) && entry.uncompressedSize >= preambleBytes;
    if (candidate && entry.isEncrypted()) throw refuse(`entry ${n} is encrypted: zip the folder again without a password`, 'UNSUPPORTED');
    if (candidate && entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
      throw refuse(`entry ${n} uses a compression method the server cannot unpack (${entry.compressionMethod}): zip the folder again with standard (Deflate) compression`, 'UNSUPPORTED');
    }
    const { fileDataStart } = await zip.readLocalFileHeaderPromise(entry, { minimal: true });
    // Entries are laid out one after another. Data that starts inside another entry's (header or
    // data) is the overlapping-file zip bomb: one kernel inflated once per entry that points at it.
    if (entry.relativeOffsetOfLocalHeader < end) throw refuse('entries of the zip overlap each other (a zip bomb construction): refused', 'CORRUPT');
    end = fileDataStart + entry.compressedSize;
    plan.push({ entry, n, dataStart: fileDataStart, candidate });
  }
  if (!ratioOk(declared, zip.fileSize)) throw refuse(`the zip expands ${Math.round(declared / Math.max(1, zip.fileSize))} times its size (at most ${limits.maxRatio ?? maxZipRatio}): refused as a possible zip bomb`);
  return plan;
}
