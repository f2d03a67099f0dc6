import type { FastifyReply, FastifyRequest } from 'fastify';
import { ERRORS } from '@tus/server';
import type { UploadRow } from '../db/repos/uploads.ts';
import { ApiError } from '../http/api-error.ts';

/** The shape @tus/server sends as it is when a hook or the store throws it. */
export interface TusAnswer {
  status_code: number;
  body: string;
}

const jsonBody = (code: string, message: string): string => JSON.stringify({ error: { code, message } });

/**
 * What a PATCH gets when its upload is terminated (DELETE) while it is still sending: a 4xx the
 * client does not retry, saying why, instead of a 204 for bytes that are already gone.
 */
export function terminatedWhileSending(): TusAnswer {
  return { status_code: 410, body: jsonBody('UPLOAD_TERMINATED', 'this upload was cancelled while its data was being sent; nothing more is accepted for it') };
}

/**
 * Protocol answers of @tus/server that are the client's doing, not the server's, mapped to JSON
 * 4xx. Without this they reach the generic 5xx branch and read as an internal error:
 * - an extension we do not offer (Upload-Concat: tus answers 501) -> 400 with tus's own words,
 *   so a client configured for parallel uploads learns to turn that off;
 * - terminating an upload whose bytes are all in (it is being or has been stored as a scan part)
 *   -> 409: removing it now would pull the file from under the scan; remove the scan instead.
 * Returns undefined for anything else.
 */
export function clientErrorAnswer(err: unknown): TusAnswer | undefined {
  const e = err as Partial<TusAnswer>;
  if (typeof e?.status_code !== 'number' || typeof e.body !== 'string') return undefined;
  if (e.status_code === 501) return { status_code: 400, body: jsonBody('UNSUPPORTED_EXTENSION', e.body.trim()) };
  // The request's offset is not the upload's (a client that re-sent a request another instance
  // or a dropped connection already partly stored): its own code, so the client knows to re-read
  // the offset (HEAD) and resume rather than give up on a conflict.
  if (err === ERRORS.INVALID_OFFSET) return { status_code: 409, body: jsonBody('OFFSET_CONFLICT', 'the upload offset does not match the stored bytes; resume from the offset the server reports') };
  if (err === ERRORS.INVALID_TERMINATION) {
    return { status_code: 409, body: jsonBody('UPLOAD_COMPLETE', 'this upload is complete and stored with its scan; it can no longer be cancelled') };
  }
  return undefined;
}

/** True for uploads whose every byte arrived and whose finish was recorded. */
export function isFinished(row: UploadRow): boolean {
  return row.status === 'complete' || row.status === 'duplicate';
}

/**
 * PATCH of a finished upload, answered from its record without @tus/server: finishing (hash,
 * scan, ingest) already ran and must not run again, and the tus copy of its bytes may already be
 * gone (removed once the scan holds them). Same answers tus gives for a complete upload:
 * - Upload-Offset equal to the length and no body: 204, Upload-Offset = length (a client that
 *   lost the answer to its last PATCH learns it is done);
 * - another offset: 409 with the real offset;
 * - bytes past the end: 413.
 * Returns false (nothing sent) when the upload is not finished.
 */
export async function answeredFinishedPatch(row: UploadRow, req: FastifyRequest, reply: FastifyReply): Promise<boolean> {
  if (!isFinished(row)) return false;
  reply.header('tus-resumable', '1.0.0').header('upload-offset', String(row.size)).header('cache-control', 'no-store');
  if (row.scanId !== null) reply.header('x-scan-id', String(row.scanId));
  const raw = req.headers['upload-offset'];
  if (typeof raw !== 'string' || !/^\d{1,16}$/.test(raw.trim())) throw new ApiError(400, 'BAD_REQUEST', 'the Upload-Offset header must be a whole number');
  if (Number(raw.trim()) !== row.size) throw new ApiError(409, 'OFFSET_MISMATCH', `this upload is complete: its offset is ${row.size}`);
  const length = Number(req.headers['content-length'] ?? '0');
  if (req.headers['transfer-encoding'] !== undefined || !(length === 0)) {
    // The unread body must not be taken for the next request on this connection.
    reply.header('connection', 'close');
    throw new ApiError(413, 'UPLOAD_COMPLETE', 'this upload is complete; it accepts no more bytes');
  }
  await reply.code(204).send();
  return true;
}
