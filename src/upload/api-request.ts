import { SlideError } from '../shared/errors.ts';
import { readApiResponse } from '../shared/api-response.ts';

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
  // A wrong password at sign-in is a 401 too, but not the end of a session.
  if (res.status === 401 && path !== '/api/login') dispatchEvent(new Event(UNAUTHENTICATED_EVENT));
  return readApiResponse<T>(res);
}
