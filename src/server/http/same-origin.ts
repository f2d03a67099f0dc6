import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from './api-error.ts';

/** Methods that never change state here (GET/HEAD/OPTIONS routes only read). */
const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

export type OriginVerdict =
  | { allowed: true; basis: 'safe-method' | 'sec-fetch-site' | 'origin' | 'non-browser' }
  | { allowed: false; reason: string };

export interface OriginFacts {
  method: string;
  /** Sec-Fetch-Site as sent, if at all. */
  secFetchSite: string | undefined;
  /** Origin as sent, if at all. */
  origin: string | undefined;
  /** host[:port] this request was addressed to, as Fastify sees it (Host, or X-Forwarded-Host from a trusted proxy). */
  host: string;
}

/**
 * Cross-site request forgery check for state-changing requests (POST, PUT, PATCH, DELETE — the
 * tus endpoint included). Only requests made by our own pages may change anything:
 *
 * 1. Sec-Fetch-Site, when present, decides: only `same-origin` passes. The browser sets it and no
 *    page can forge or remove it; `same-site` (a sibling host such as another app on the hospital
 *    domain) and `cross-site` are refused, and so is `none` (a user-typed navigation, which is
 *    never how the app changes state).
 * 2. Otherwise Origin, when present, must name this host (browsers without Sec-Fetch-Site still
 *    send Origin on every POST and on every cross-origin request; `null` — sandboxed frames,
 *    data: URLs, cross-origin redirects — is refused).
 * 3. Neither header: allowed. Every browser the app supports sends Sec-Fetch-Site on every request
 *    (Chromium since 76, Firefox 90, Safari 16.4), so a request with neither header did not come
 *    from a page in such a browser: it comes from a program (our CLI, curl, scripts) that holds the
 *    session cookie itself and so has nothing to forge. The residual case, an old browser that
 *    sends neither header, is covered by the session cookie being SameSite=Strict
 *    (http/cookies.ts): such a browser does not attach it to a request another site starts, so
 *    the request arrives unauthenticated and every route that changes data refuses it. The one
 *    route that works without a session, sign-in, only accepts a JSON body, which another site can
 *    send only after a CORS preflight that this server never grants.
 */
export function judgeOrigin(f: OriginFacts): OriginVerdict {
  if (safeMethods.has(f.method.toUpperCase())) return { allowed: true, basis: 'safe-method' };
  const site = f.secFetchSite?.trim().toLowerCase();
  if (site) {
    if (site === 'same-origin') return { allowed: true, basis: 'sec-fetch-site' };
    return { allowed: false, reason: `Sec-Fetch-Site: ${site}` };
  }
  const origin = f.origin?.trim();
  if (origin) {
    let host: string | undefined;
    try {
      const u = new URL(origin);
      if (u.protocol === 'http:' || u.protocol === 'https:') host = u.host;
    } catch {
      // 'null' and anything unparsable: not our origin.
    }
    if (host !== undefined && host.toLowerCase() === f.host.trim().toLowerCase()) return { allowed: true, basis: 'origin' };
    return { allowed: false, reason: 'Origin is another site' };
  }
  return { allowed: true, basis: 'non-browser' };
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

export const crossSiteError = (): ApiError =>
  new ApiError(403, 'CROSS_SITE_REQUEST', 'request refused: changes can only be made from the WSI Bulk Import app itself, not from another site');

/**
 * Runs judgeOrigin before anything else reads the request (session, body, tus). A refusal is
 * logged with method, path and the deciding header only (never a query string or body).
 */
export function registerSameOriginCheck(app: FastifyInstance): void {
  app.addHook('onRequest', async (req) => {
    const verdict = judgeOrigin({ method: req.method, secFetchSite: header(req, 'sec-fetch-site'), origin: header(req, 'origin'), host: req.host });
    if (verdict.allowed) return;
    req.log.warn({ method: req.method, path: req.url.split('?')[0], why: verdict.reason }, 'cross-site request refused');
    throw crossSiteError();
  });
}
