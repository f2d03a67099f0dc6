import type { HttpRequest, UploadOptions } from 'tus-js-client';
import { DEFERRED_SHA256, UPLOAD_SHA256_HEADER, isSha256Hex } from '../shared/upload-digest.ts';

/**
 * The client side of the deferred-digest contract (shared/upload-digest.ts) for tus-js-client: the
 * part is created with `sha256=deferred` and the request that carries its last byte gets the
 * `Upload-Sha256` header. Used when the bytes are produced while they are sent (the de-identified
 * view of an original, hashed and swept chunk by chunk), so the digest exists only at the end.
 */
export interface DeferredDigest {
  /** The part's size in bytes (tus Upload-Length). */
  size: number;
  /**
   * The part's SHA-256 (hex). Asked only for the request that carries the last byte, after
   * tus-js-client read that request's slice from the source, so a source that hashes what it
   * returns has the whole digest by then. A throw fails that request (the upload's onError).
   */
  digest(): Promise<string> | string;
}

/** SHA-256 of no bytes: an empty part's digest needs no reading. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/**
 * `options` with `metadata.sha256 = 'deferred'` and an `onBeforeRequest` (after the caller's own)
 * that sets Upload-Sha256 on the request whose body ends at `size`.
 *
 * Which request that is follows from tus-js-client's own arithmetic: a PATCH at Upload-Offset `o`
 * sends the slice [o, min(o + chunkSize, size)) — the source must return exactly the range asked
 * for, as tus-js-client's sources do (it refuses a short one) — so it carries the last byte when
 * `o + chunkSize >= size`. A creation carries bytes only with `uploadDataDuringCreation` (then
 * [0, chunkSize)); an empty part is finished by its creation.
 */
export function withDeferredDigest(options: UploadOptions, d: DeferredDigest): UploadOptions {
  if (options.uploadLengthDeferred) throw new Error('a deferred digest needs the upload length up front');
  if ((options.parallelUploads ?? 1) > 1) throw new Error('a deferred digest needs one sequential upload (no parallelUploads)');
  const chunkSize = options.chunkSize ?? Number.POSITIVE_INFINITY;
  const before = options.onBeforeRequest;
  return {
    ...options,
    metadata: { ...options.metadata, sha256: DEFERRED_SHA256 },
    async onBeforeRequest(req: HttpRequest): Promise<void> {
      if (before) await before(req);
      if (!carriesLastByte(req, d.size, chunkSize, options.uploadDataDuringCreation === true)) return;
      const hex = d.size === 0 ? EMPTY_SHA256 : await d.digest();
      if (!isSha256Hex(hex)) throw new Error('the digest of a deferred upload must be 64 hexadecimal digits');
      req.setHeader(UPLOAD_SHA256_HEADER, hex.toLowerCase());
    },
  };
}

/** True for the request (PATCH, or a creation carrying data) whose body ends at `size`. */
export function carriesLastByte(req: HttpRequest, size: number, chunkSize: number, dataDuringCreation: boolean): boolean {
  const method = req.getMethod().toUpperCase();
  const patch = method === 'PATCH' || (method === 'POST' && req.getHeader('X-HTTP-Method-Override') === 'PATCH');
  if (patch) {
    const offset = Number(req.getHeader('Upload-Offset'));
    return Number.isFinite(offset) && offset + Math.min(chunkSize, size - offset) === size;
  }
  if (method === 'POST' && req.getHeader('Upload-Length') !== undefined) return size === 0 || (dataDuringCreation && chunkSize >= size);
  return false;
}
