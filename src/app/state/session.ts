import { api, type Me } from '../api.ts';
import { SlideError } from '../../shared/errors.ts';
import { UNAUTHENTICATED_EVENT } from '../../upload/api-request.ts';

/** The signed-in user, shared by every page; null when signed out. */
let me: Me | null = null;
/** The session ended on the server (expired, or signed out elsewhere) while this page showed it. */
let ended = false;
const listeners = new Set<(me: Me | null) => void>();

/**
 * Tabs of one browser profile share the session cookie: signing in or out in one tab changes who
 * the others act as. They tell each other, so a tab still showing user A's wizard never goes on
 * (uploading, saving) as user B. Absent in old browsers and some test pages: then each tab finds
 * out on its next request or when it is shown again.
 */
const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('wsi-session') : undefined;
let watching = false;

export function currentUser(): Me | null {
  return me;
}

/** Whether the last session ended by itself (the login page says so, and the batch is waiting). */
export function sessionEnded(): boolean {
  return ended;
}

/** Whether the user is a lab admin of the lab they work in (the server checks it again). */
export function isLabAdmin(): boolean {
  const lab = me?.labs.find((l) => l.id === me?.currentLabId);
  return lab?.role === 'lab-admin';
}

/**
 * Ask the server who is signed in. `revalidate`: a check while the page is in use, where an
 * unreachable server says nothing about the session (a lab network drops out), so only the
 * server's "not signed in" ends it.
 */
export async function loadMe(revalidate = false): Promise<Me | null> {
  watch();
  try {
    const m = await api<Me>('/api/me');
    ended = false;
    setMe(m);
  } catch (e) {
    if (!revalidate || isUnauthenticated(e)) {
      if (revalidate && me) ended = true;
      setMe(null);
    }
  }
  return me;
}

export async function login(username: string, password: string): Promise<Me> {
  watch();
  await api('/api/login', { body: { username, password } });
  const m = await api<Me>('/api/me');
  ended = false;
  setMe(m);
  channel?.postMessage({ userId: m.user.id });
  return m;
}

export async function logout(): Promise<void> {
  await api('/api/logout', { method: 'POST', body: {} }).catch(() => undefined);
  ended = false;
  setMe(null);
  channel?.postMessage({ userId: null });
}

export function onSessionChange(l: (me: Me | null) => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

/** Tests: act as this user without a server (component tests of per-user state). */
export function setSessionForTest(m: Me | null): void {
  setMe(m);
}

function setMe(m: Me | null): void {
  me = m;
  for (const l of listeners) l(m);
}

function isUnauthenticated(e: unknown): boolean {
  return e instanceof SlideError && e.detail === 'UNAUTHENTICATED';
}

/**
 * Notice a session that ended or changed without this tab's doing: a request answered "sign in
 * first" (expired), another tab signed in or out, or the tab is shown again after a while. The
 * signed-in user then becomes whoever the server says, so per-user state (the import batch)
 * follows: the same user signing in again comes back to their batch; anyone else never sees it.
 */
function watch(): void {
  if (watching) return;
  watching = true;
  addEventListener(UNAUTHENTICATED_EVENT, () => {
    if (!me) return;
    ended = true;
    setMe(null);
  });
  channel?.addEventListener('message', (e: MessageEvent<{ userId: number | null }>) => {
    if (e.data.userId !== (me?.user.id ?? null)) void loadMe(true);
  });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && me) void loadMe(true);
  });
}
