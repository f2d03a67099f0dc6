import { api, type Me } from '../api.ts';

/** The signed-in user, shared by every page; null when signed out. */
let me: Me | null = null;
const listeners = new Set<(me: Me | null) => void>();

export function currentUser(): Me | null {
  return me;
}

/** Whether the user is a lab admin of the lab they work in (the server checks it again). */
export function isLabAdmin(): boolean {
  const lab = me?.labs.find((l) => l.id === me?.currentLabId);
  return lab?.role === 'lab-admin';
}

export async function loadMe(): Promise<Me | null> {
  try {
    setMe(await api<Me>('/api/me'));
  } catch {
    setMe(null);
  }
  return me;
}

export async function login(username: string, password: string): Promise<Me> {
  await api('/api/login', { body: { username, password } });
  const m = await api<Me>('/api/me');
  setMe(m);
  return m;
}

export async function logout(): Promise<void> {
  await api('/api/logout', { method: 'POST', body: {} }).catch(() => undefined);
  setMe(null);
}

export function onSessionChange(l: (me: Me | null) => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

function setMe(m: Me | null): void {
  me = m;
  for (const l of listeners) l(m);
}
