import { SlideError, type ErrorCode } from './errors.ts';
import { sentence } from './sentence.ts';

/** The server's JSON error shape: { error: { code, message } }. */
interface ApiErrorBody {
  error?: { code?: string; message?: string };
}

const statusCodes: Record<number, ErrorCode> = { 400: 'BAD_REQUEST', 401: 'FORBIDDEN', 403: 'FORBIDDEN', 404: 'NOT_FOUND', 409: 'CONFLICT', 413: 'QUOTA' };

/**
 * A response of our API as its JSON body, or its refusal as a SlideError whose message is the
 * server's own sentence (shown to the user as is) and whose detail is the server's error code.
 * Shared by the app's requests (upload/api-request.ts) and the CLI's (cli/upload/server-api.ts).
 */
export async function readApiResponse<T>(res: Response): Promise<T> {
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const err = (json as ApiErrorBody | undefined)?.error;
    const code = statusCodes[res.status] ?? (res.status >= 500 ? 'INTERNAL' : 'BAD_REQUEST');
    throw new SlideError(code, sentence(err?.message ?? `the request failed (HTTP ${res.status})`), { detail: err?.code });
  }
  return json as T;
}
