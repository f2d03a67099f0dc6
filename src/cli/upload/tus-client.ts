import { createReadStream } from 'node:fs';
import { Upload, type UploadOptions } from 'tus-js-client';
import { SlideError } from '../../shared/errors.ts';
import { sentence } from '../../shared/sentence.ts';
import { AUTH_REFUSED, AUTH_REFUSED_MESSAGE } from './server-api.ts';

/** SlideError detail: the server's hash of the part did not match ours (460); send it again from scratch. */
export const CHECKSUM_MISMATCH = 'CHECKSUM_MISMATCH';

export interface SendPart {
  /** The tus creation endpoint (`<origin>/files/`). */
  endpoint: string;
  authorization: string;
  file: string;
  metadata: Record<string, string>;
  /** An upload created by an earlier run: tus asks its offset (HEAD) and continues from there. */
  url?: string;
  chunkSize: number;
  retryDelays: number[];
  /** The upload exists on the server (created or found): store the URL before any byte is sent. */
  onUrl: (url: string) => Promise<void>;
  /** `sent` counts from the start of the part, including what an earlier run sent. */
  onProgress: (sent: number, total: number) => void;
}

/**
 * Sends one part with tus-js-client (its Node build: the file is read in slices straight from
 * disk, `chunkSize` bytes per PATCH). Resolves when the server has every byte.
 */
export function sendPart(o: SendPart): Promise<void> {
  return new Promise((resolve, reject) => {
    let urlSaved: Promise<void> = Promise.resolve();
    const options: UploadOptions = {
      endpoint: o.endpoint,
      ...(o.url !== undefined ? { uploadUrl: o.url } : {}),
      chunkSize: o.chunkSize,
      retryDelays: o.retryDelays,
      headers: { authorization: o.authorization },
      metadata: o.metadata,
      // Resuming is ours (the state file); tus-js-client's own URL storage stays off.
      storeFingerprintForResuming: false,
      onUploadUrlAvailable: () => {
        // Called after creation and before the first PATCH: the URL reaches the state file first.
        if (upload.url) urlSaved = o.onUrl(upload.url);
      },
      onProgress: (sent, total) => o.onProgress(sent, total),
      onSuccess: () => void urlSaved.then(() => resolve(), reject),
      onError: (err) => reject(toError(err)),
      onShouldRetry: (err) => {
        // Refusals (bad metadata, auth, permission, conflicting content, gone, size, quota, bad
        // hash) do not heal by sending the same request again; a full server disk (507) may.
        return ![400, 401, 403, 404, 409, 410, 413, 460].includes(statusOf(err));
      },
    };
    // A ReadStream with a path: tus-js-client reads each chunk with its own ranged stream.
    const upload = new Upload(createReadStream(o.file), options);
    upload.start();
  });
}

function toError(err: Error): SlideError {
  const status = statusOf(err);
  if (status === 401) return new SlideError('FORBIDDEN', AUTH_REFUSED_MESSAGE, { detail: AUTH_REFUSED, cause: err });
  const message = sentence(serverMessage(err) ?? err.message.split('\n')[0]!);
  if (status === 460) return new SlideError('CORRUPT', message, { cause: err, detail: CHECKSUM_MISMATCH });
  if (status === 413 || status === 507) return new SlideError('QUOTA', message, { cause: err });
  if (status === 403) return new SlideError('FORBIDDEN', message, { cause: err });
  if (status >= 400 && status < 500) return new SlideError('BAD_REQUEST', message, { cause: err });
  return new SlideError('NETWORK', message, { cause: err });
}

/** HTTP status of a tus-js-client error (0 when there was no response). */
function statusOf(err: Error): number {
  return (err as { originalResponse?: { getStatus(): number } | null }).originalResponse?.getStatus() ?? 0;
}

/** The server's own words ({error:{message}}), rather than tus-js-client's long text (which lists headers). */
function serverMessage(err: Error): string | undefined {
  try {
    const body = (err as { originalResponse?: { getBody(): string } | null }).originalResponse?.getBody();
    return body ? (JSON.parse(body) as { error?: { message?: string } }).error?.message : undefined;
  } catch {
    return undefined;
  }
}
