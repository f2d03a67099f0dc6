/**
 * The one error type of the product. Every failure a user or a caller can act on is a SlideError
 * with a code; the message names the file and the problem in words a lab user understands and
 * never contains a metadata value (values may be PHI).
 */
export type ErrorCode =
  | 'NOT_RECOGNIZED' // no driver claims the file
  | 'UNSUPPORTED' // recognised, but a variant we cannot process (e.g. big-endian DICOM)
  | 'CORRUPT' // structure is inconsistent (bad offsets, cycles, absurd counts)
  | 'TRUNCATED' // the file ends before its structure does
  | 'IO' // reading or writing failed
  | 'QUOTA' // storage full
  | 'ABORTED' // the caller cancelled
  | 'VERIFY_FAILED' // the output did not pass verification / the PHI sweep
  | 'CHANGED' // an original changed while its de-identified view was being read (zero-copy upload)
  | 'NETWORK'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BAD_REQUEST'
  | 'CONFLICT'
  | 'INTERNAL';

export class SlideError extends Error {
  readonly code: ErrorCode;
  readonly detail?: string;
  constructor(code: ErrorCode, message: string, options?: { detail?: string; cause?: unknown }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'SlideError';
    this.code = code;
    if (options?.detail !== undefined) this.detail = options.detail;
  }

  /** The same error with the file name in front, so batch reports say which file failed. */
  forFile(fileName: string): SlideError {
    if (this.message.startsWith(`${fileName}:`)) return this;
    const e = new SlideError(this.code, `${fileName}: ${this.message}`, { detail: this.detail, cause: this.cause });
    return e;
  }

  toJSON(): SerializedSlideError {
    return { name: 'SlideError', code: this.code, message: this.message, ...(this.detail ? { detail: this.detail } : {}) };
  }

  static fromJSON(j: SerializedSlideError): SlideError {
    return new SlideError(j.code, j.message, j.detail ? { detail: j.detail } : undefined);
  }
}

export interface SerializedSlideError {
  name: 'SlideError';
  code: ErrorCode;
  message: string;
  detail?: string;
}

export function isSlideError(e: unknown): e is SlideError {
  return e instanceof SlideError;
}

/** Wrap anything thrown into a SlideError naming the file; AbortError becomes ABORTED. */
export function toSlideError(e: unknown, fileName?: string): SlideError {
  let err: SlideError;
  if (e instanceof SlideError) err = e;
  else if (e instanceof Error && e.name === 'AbortError') err = new SlideError('ABORTED', 'cancelled', { cause: e });
  else if (e instanceof Error && e.name === 'QuotaExceededError') err = new SlideError('QUOTA', 'not enough disk space for the de-identified copy', { cause: e });
  else err = new SlideError('INTERNAL', e instanceof Error ? e.message : String(e), { cause: e });
  return fileName ? err.forFile(fileName) : err;
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new SlideError('ABORTED', 'cancelled');
}
