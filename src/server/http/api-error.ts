import { SlideError, type ErrorCode } from '../../shared/errors.ts';

/**
 * A SlideError that knows its HTTP status. `apiCode` is what clients see in
 * {error:{code,message}} (e.g. UNAUTHENTICATED), finer than the SlideError code.
 */
export class ApiError extends SlideError {
  readonly status: number;
  readonly apiCode: string;
  constructor(status: number, apiCode: string, message: string) {
    super(slideCodeFor(status), message);
    this.status = status;
    this.apiCode = apiCode;
  }
}

function slideCodeFor(status: number): ErrorCode {
  if (status === 401 || status === 403) return 'FORBIDDEN';
  if (status === 404) return 'NOT_FOUND';
  if (status === 409) return 'CONFLICT';
  if (status >= 400 && status < 500) return 'BAD_REQUEST';
  // 507 Insufficient Storage: the server's disk is full; 503: its storage could not be written.
  if (status === 507) return 'QUOTA';
  if (status === 503) return 'IO';
  return 'INTERNAL';
}

export const badRequest = (message: string, apiCode = 'BAD_REQUEST'): ApiError => new ApiError(400, apiCode, message);
export const unauthenticated = (): ApiError => new ApiError(401, 'UNAUTHENTICATED', 'sign in first');
export const forbidden = (message: string): ApiError => new ApiError(403, 'FORBIDDEN', message);
export const notFound = (what = 'not found'): ApiError => new ApiError(404, 'NOT_FOUND', what);
export const conflict = (message: string): ApiError => new ApiError(409, 'CONFLICT', message);

/** HTTP status for an engine SlideError surfacing through the API. */
export function statusForSlideCode(code: ErrorCode): number {
  switch (code) {
    case 'BAD_REQUEST':
    case 'NOT_RECOGNIZED':
    case 'UNSUPPORTED':
    case 'CORRUPT':
    case 'TRUNCATED':
      return 400;
    case 'FORBIDDEN':
      return 403;
    case 'NOT_FOUND':
      return 404;
    case 'CONFLICT':
      return 409;
    case 'QUOTA':
      return 507;
    default:
      return 500;
  }
}

export interface ErrorBody {
  error: { code: string; message: string };
}

export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}
