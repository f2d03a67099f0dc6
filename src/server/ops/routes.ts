import type { FastifyInstance } from 'fastify';
import { errorBody } from '../http/api-error.ts';
import { judgeMetricsAccess } from './metrics-access.ts';
import type { Metrics } from './metrics.ts';
import { checkReadiness, type ReadinessCheck } from './readiness.ts';

export const metricsPath = '/metrics';
/** Routes that need no session and take no API token (token-scope.ts leaves them alone). */
export const opsPaths: readonly string[] = ['/api/health', '/api/ready', metricsPath];

export interface OpsDeps {
  checks: readonly ReadinessCheck[];
  metrics: Metrics;
  metricsToken: string | undefined;
  checkTimeoutMs?: number;
}

/** Liveness, readiness and the Prometheus scrape endpoint (README, "Operations"). */
export function opsRoutes(app: FastifyInstance, d: OpsDeps): void {
  // Liveness: the process answers. No database or disk call, so a slow disk never gets it restarted.
  app.get('/api/health', async (_req, reply) => {
    reply.header('cache-control', 'no-store');
    return { status: 'ok' };
  });

  // Readiness: send traffic here only while the database and the storage answer.
  app.get('/api/ready', async (req, reply) => {
    const r = await checkReadiness(d.checks, d.checkTimeoutMs);
    const checks = Object.fromEntries(r.checks.map((c) => [c.name, c.ok ? 'ok' : 'failed']));
    reply.header('cache-control', 'no-store');
    if (r.ready) return { status: 'ready', checks };
    const failed = r.checks.filter((c) => !c.ok);
    // Names and error codes only: messages may hold paths or connection strings.
    req.log.warn({ failed: failed.map((c) => ({ check: c.name, reason: c.reason })) }, 'not ready');
    return reply.code(503).send({ status: 'unavailable', failed: failed.map((c) => c.name), checks });
  });

  app.get(metricsPath, async (req, reply) => {
    const forwarded = req.headers.forwarded !== undefined || req.headers['x-forwarded-for'] !== undefined;
    const verdict = judgeMetricsAccess({ token: d.metricsToken, authorization: req.headers.authorization, remoteAddress: req.socket.remoteAddress, forwarded });
    if (verdict === 'hidden') return reply.code(404).type('application/json; charset=utf-8').send(errorBody('NOT_FOUND', 'not found'));
    if (verdict === 'unauthorized') {
      return reply.code(401).header('www-authenticate', 'Bearer realm="metrics"').type('application/json; charset=utf-8').send(errorBody('UNAUTHENTICATED', 'a valid metrics token is required'));
    }
    const { contentType, body } = await d.metrics.render();
    return reply.header('cache-control', 'no-store').type(contentType).send(body);
  });
}
