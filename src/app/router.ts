/**
 * A small history router: the app has a handful of pages, so a table of patterns is enough.
 * Links with `href` starting with '/' are intercepted so navigation never reloads the page
 * (a reload would interrupt uploads).
 */
export interface Route {
  name: string;
  params: Record<string, string>;
}

const patterns: { name: string; re: RegExp; keys: string[] }[] = [
  { name: 'login', re: /^\/login\/?$/, keys: [] },
  { name: 'import', re: /^\/import\/?$/, keys: [] },
  { name: 'scan', re: /^\/scans\/(\d+)\/?$/, keys: ['id'] },
  { name: 'scans', re: /^\/(scans\/?)?$/, keys: [] },
  { name: 'case', re: /^\/cases\/(\d+)\/?$/, keys: ['id'] },
  { name: 'cases', re: /^\/cases\/?$/, keys: [] },
  { name: 'account', re: /^\/account\/?$/, keys: [] },
  { name: 'members', re: /^\/members\/?$/, keys: [] },
  { name: 'lab-admin', re: /^\/lab-admin\/?$/, keys: [] },
  { name: 'labs', re: /^\/labs\/?$/, keys: [] },
  { name: 'lab', re: /^\/labs\/(\d+)\/?$/, keys: ['id'] },
];

export function matchRoute(pathname: string): Route {
  for (const p of patterns) {
    const m = p.re.exec(pathname);
    if (m) return { name: p.name, params: Object.fromEntries(p.keys.map((k, i) => [k, decodeURIComponent(m[i + 1])])) };
  }
  return { name: 'not-found', params: {} };
}

type Listener = (route: Route) => void;
const listeners = new Set<Listener>();

export function currentRoute(): Route {
  return matchRoute(location.pathname);
}

export function navigate(path: string, replace = false): void {
  if (path === location.pathname + location.search) return;
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  notify();
}

export function onRouteChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function notify(): void {
  const r = currentRoute();
  for (const l of listeners) l(r);
}

export function startRouter(): void {
  addEventListener('popstate', notify);
  // Intercept same-origin links, including those inside shadow roots (composedPath).
  addEventListener('click', (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = e.composedPath().find((n): n is HTMLAnchorElement => n instanceof HTMLAnchorElement);
    if (!a || a.target || a.hasAttribute('download')) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || url.pathname.startsWith('/api/') || url.pathname.startsWith('/files/')) return;
    e.preventDefault();
    navigate(url.pathname + url.search);
  });
}
