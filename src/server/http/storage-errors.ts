import { statfsSync } from 'node:fs';
import { ApiError } from './api-error.ts';

/**
 * Why a write to the server's storage failed, when it is the storage's fault rather than a bug:
 * 'full' (no space or over the file-system quota: freeing space fixes it) or 'unavailable' (the
 * disk or database could not be written for another reason: read-only, I/O error, locked too long).
 */
export type StorageFailure = 'full' | 'unavailable';

const fullErrno = new Set(['ENOSPC', 'EDQUOT']);
const unavailableErrno = new Set(['EROFS', 'EIO']);

/** Below this much free space an SQLite I/O error is taken to be the disk being full. */
const nearlyFullBytes = 1024 * 1024;

/** Free bytes for an unprivileged writer on the file system holding `dir` (undefined if unknown). */
export function freeBytes(dir: string): number | undefined {
  try {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}

/**
 * Classify an error from fs or better-sqlite3 (following `cause`). SQLite reports ENOSPC as
 * SQLITE_FULL, but some writes (the WAL index, a journal) surface as SQLITE_IOERR_*, which carry no
 * errno: those count as 'full' when the data directory has (almost) no space left.
 */
export function storageFailureOf(e: unknown, dataDir?: string): StorageFailure | undefined {
  for (let cur = e, depth = 0; cur && typeof cur === 'object' && depth < 5; cur = (cur as { cause?: unknown }).cause, depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code !== 'string') continue;
    if (fullErrno.has(code) || code === 'SQLITE_FULL') return 'full';
    if (code.startsWith('SQLITE_IOERR')) {
      const free = dataDir === undefined ? undefined : freeBytes(dataDir);
      return free !== undefined && free < nearlyFullBytes ? 'full' : 'unavailable';
    }
    if (unavailableErrno.has(code) || code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN') || code === 'SQLITE_BUSY') return 'unavailable';
  }
  return objectStoreFailureOf(e);
}

const networkErrno = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND']);

/**
 * An S3 request (AWS SDK error, itself or as a cause) that failed because the object store could
 * not be reached or answered 5xx (503 SlowDown included): 'unavailable', so clients retry later.
 */
function objectStoreFailureOf(e: unknown): StorageFailure | undefined {
  for (let cur = e, depth = 0; cur && typeof cur === 'object' && depth < 5; cur = (cur as { cause?: unknown }).cause, depth++) {
    const c = cur as { $metadata?: { httpStatusCode?: number }; code?: unknown; name?: unknown };
    if (!c.$metadata) continue;
    const status = c.$metadata.httpStatusCode;
    if ((status !== undefined && status >= 500) || (typeof c.code === 'string' && networkErrno.has(c.code)) || c.name === 'TimeoutError') return 'unavailable';
  }
  return undefined;
}

/** Seconds a client should wait before trying again (sent as Retry-After). */
export const storageRetryAfterSeconds = 60;

/** The API error a client sees for a storage failure: what happened and what to do, no paths. */
export function storageApiError(kind: StorageFailure): ApiError {
  return kind === 'full'
    ? new ApiError(507, 'INSUFFICIENT_STORAGE', 'the server has run out of storage space, so nothing was saved; try again later (an administrator needs to free space)')
    : new ApiError(503, 'STORAGE_UNAVAILABLE', 'the server could not write to its storage, so nothing was saved; try again in a minute');
}
