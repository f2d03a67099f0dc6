import type { IncomingHttpHeaders } from 'node:http';
import type { Repos } from '../db/repos/index.ts';
import type { UploadRow } from '../db/repos/uploads.ts';
import { ApiError } from '../http/api-error.ts';
import { DEFERRED_SHA256, UPLOAD_SHA256_HEADER, isSha256Hex } from '../../shared/upload-digest.ts';

/**
 * The server side of the deferred-digest contract (shared/upload-digest.ts): an upload created with
 * `sha256=deferred` names its SHA-256 in the Upload-Sha256 header of the request that carries its
 * last byte. Only that request's header counts (a client may send it on every PATCH once it knows
 * it). The comparison itself is finishPart's, exactly as for a hash announced at creation: a
 * missing or different digest makes the part corrupt (460, bytes dropped, the client sends again).
 */

const headerKey = UPLOAD_SHA256_HEADER.toLowerCase();

export function isDeferred(row: Pick<UploadRow, 'sha256'>): boolean {
  return row.sha256 === DEFERRED_SHA256;
}

/**
 * The digest a request announces: undefined without the header. A malformed one is refused with
 * 400 before any byte of the body is stored (the value is never echoed).
 */
export function announcedDigest(headers: IncomingHttpHeaders): string | undefined {
  const raw = headers[headerKey];
  if (raw === undefined) return undefined;
  const value = Array.isArray(raw) ? raw.join(',') : raw.trim();
  if (!isSha256Hex(value)) throw new ApiError(400, 'BAD_DIGEST', `the ${UPLOAD_SHA256_HEADER} header must be 64 hexadecimal digits`);
  return value.toLowerCase();
}

/**
 * The row to finish, given the request that carried the last byte: a deferred upload takes that
 * request's digest, recorded so a finish re-run later (a HEAD after a full disk) compares against
 * the same value. Without one the row keeps `deferred`, which no hash equals: the part is corrupt.
 */
export async function withAnnouncedDigest(repos: Repos, row: UploadRow, headers: IncomingHttpHeaders | undefined): Promise<UploadRow> {
  if (!isDeferred(row) || !headers) return row;
  // Validated before the body was read (tus.ts); a malformed value cannot reach this point.
  const digest = announcedDigest(headers);
  if (digest === undefined) return row;
  await repos.uploads.setAnnouncedSha256(row.labId, row.id, digest);
  return { ...row, sha256: digest };
}

/** The 460 body's message: a missing digest says so, so a client author sees what to fix. */
export function mismatchMessage(row: Pick<UploadRow, 'sha256'>): string {
  return isDeferred(row)
    ? `no ${UPLOAD_SHA256_HEADER} header came with the last bytes of this part, so they cannot be checked; send the part again`
    : 'the received bytes do not match the sha256 announced for this part; send the part again';
}
