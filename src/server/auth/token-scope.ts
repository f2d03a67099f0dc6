import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError, unauthenticated } from '../http/api-error.ts';
import { hasBearer, type Sessions } from './session.ts';
import { metricsPath } from '../ops/routes.ts';

/**
 * What an API token may do (issue 14, scope "upload + read"): read the API (GET/HEAD of /api/*),
 * use the tus endpoint (every method: create, resume, send, cancel) and record its batch
 * (PUT /api/batches/:id). Everything else — cases, scans' changes, lab administration, the
 * account, the tokens themselves — needs a person signed in.
 */
export function tokenMayDo(method: string, route: string): boolean {
  const m = method.toUpperCase();
  if (route === '/files' || route === '/files/*' || route.startsWith('/files/')) return true;
  if ((m === 'GET' || m === 'HEAD') && route.startsWith('/api/')) return true;
  return m === 'PUT' && (route === '/api/batches/:id' || /^\/api\/batches\/[A-Za-z0-9_-]{1,64}$/.test(route));
}

export const tokenScopeError = (): ApiError => new ApiError(403, 'TOKEN_SCOPE', 'an API token may only upload and read; sign in to do this');

/**
 * Bearer requests are authenticated before any route runs: a bad token is 401 wherever it is
 * sent, a good one outside its scope 403 TOKEN_SCOPE. Runs after the same-origin check.
 */
export function registerTokenScope(app: FastifyInstance, sessions: Sessions): void {
  app.addHook('onRequest', async (req: FastifyRequest) => {
    if (!hasBearer(req)) return;
    // /metrics's bearer is the metrics token (WSI_METRICS_TOKEN), judged there, not an API token.
    if (req.routeOptions.url === metricsPath) return;
    if (!sessions.get(req)) throw unauthenticated();
    // The route's pattern when it matched one (not the raw path: no spelling of a path gets around it).
    const route = req.routeOptions.url ?? req.url.split('?')[0]!;
    if (!tokenMayDo(req.method, route)) throw tokenScopeError();
  });
}
