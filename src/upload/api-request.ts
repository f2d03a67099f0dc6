import { SlideError, type ErrorCode } from '../shared/errors.ts';
import { sentence } from '../shared/sentence.ts';

/** The server's JSON error shape: { error: { code, message } }. */
interface ApiErrorBody {
  error?: { code?: string; message?: string };
}

const statusCodes: Record<number, ErrorCode> = { 400: 'BAD_REQUEST', 401: 'FORBIDDEN', 403: 'FORBIDDEN', 404: 'NOT_FOUND', 409: 'CONFLICT', 413: 'QUOTA' };

/**
 * Dispatched on the global scope when the server answers "sign in first" (401) to a request made
 * with the session cookie: the session expired or ended elsewhere. The app's session state listens
 * (src/app/state/session.ts) and shows the sign-in page; the batch waits for the same user.
 */
export const UNAUTHENTICATED_EVENT = 'wsi-unauthenticated';

/** fetch + JSON with the session cookie; failures become SlideError with a readable message. */
export async function api<T>(path: string, init: { method?: string; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers: init.body === undefined ? {} : { 'content-type': 'application/json' },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      credentials: 'same-origin',
      signal: init.signal,
    });
  } catch (e) {
    throw new SlideError('NETWORK', 'Cannot reach the server. Check the network connection.', { cause: e });
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const body = json as ApiErrorBody | undefined;
    // A wrong password at sign-in is a 401 too, but not the end of a session.
    if (res.status === 401 && path !== '/api/login') dispatchEvent(new Event(UNAUTHENTICATED_EVENT));
    const code = statusCodes[res.status] ?? (res.status >= 500 ? 'INTERNAL' : 'BAD_REQUEST');
    // Shown to the user as is (pages print e.message): a sentence, whatever the server's casing.
    throw new SlideError(code, sentence(body?.error?.message ?? `the request failed (HTTP ${res.status})`), { detail: body?.error?.code });
  }
  return json as T;
}
