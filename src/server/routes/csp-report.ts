import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { badRequest } from '../http/api-error.ts';

export const cspReportPath = '/api/csp-report';

/** What is logged of one violation: enough to find the cause, nothing a page could have filled with PHI. */
export interface ViolationSummary {
  /** The directive that blocked (script-src, img-src, …). */
  directive: string;
  /** 'inline', 'eval', 'wasm-eval', a scheme ('blob', 'data') or an origin: never a path or query. */
  blocked: string;
  /** Our own script that caused it (/app.js, /engine.worker.js), when the report names one. */
  source?: string;
  line?: number;
}

const keywords = new Set(['inline', 'eval', 'wasm-eval', 'trusted-types-policy', 'trusted-types-sink', 'self']);

function blockedOf(v: unknown): string {
  if (typeof v !== 'string' || v === '') return 'unknown';
  if (keywords.has(v)) return v;
  try {
    const u = new URL(v);
    if (u.protocol === 'http:' || u.protocol === 'https:' || u.protocol === 'ws:' || u.protocol === 'wss:') return u.origin;
    return u.protocol.replace(/:$/, '');
  } catch {
    return 'unknown';
  }
}

/**
 * The fields of a report in either format browsers send: report-uri's
 * `{"csp-report": {"effective-directive", "blocked-uri", "source-file", "line-number", …}}` or the
 * Reporting API's `[{type: "csp-violation", body: {effectiveDirective, blockedURL, …}}]`.
 * `script-sample`/`sample` (the first characters of the blocked code or style, which on a page
 * showing slide metadata could be a patient's name) and the document URL are never read.
 */
export function summarizeReports(body: unknown): ViolationSummary[] {
  const raw: Record<string, unknown>[] = [];
  if (Array.isArray(body)) {
    for (const r of body.slice(0, 100)) {
      const rec = r as { type?: unknown; body?: unknown };
      if (rec?.type === 'csp-violation' && typeof rec.body === 'object' && rec.body !== null) raw.push(rec.body as Record<string, unknown>);
    }
  } else if (typeof body === 'object' && body !== null && typeof (body as Record<string, unknown>)['csp-report'] === 'object') {
    raw.push((body as Record<string, Record<string, unknown>>)['csp-report']!);
  }
  return raw.map((r) => {
    const directive = String(r['effective-directive'] ?? r.effectiveDirective ?? r['violated-directive'] ?? '').split(' ')[0] ?? '';
    const sourceUrl = r['source-file'] ?? r.sourceFile;
    let source: string | undefined;
    try {
      const p = typeof sourceUrl === 'string' ? new URL(sourceUrl).pathname : '';
      // Our built files only: anything else is not ours to name in a log.
      if (/^\/[\w.-]{1,64}\.js$/.test(p)) source = p;
    } catch {
      // not a URL
    }
    const line = Number(r['line-number'] ?? r.lineNumber);
    return {
      directive: /^[a-z-]{1,40}$/.test(directive) ? directive : 'unknown',
      blocked: blockedOf(r['blocked-uri'] ?? r.blockedURL),
      ...(source ? { source } : {}),
      ...(Number.isSafeInteger(line) && line > 0 ? { line } : {}),
    };
  });
}

/** At most this many violations are logged per minute, so anyone posting reports cannot flood the log. */
const logPerMinute = 30;

/**
 * Where browsers send Content-Security-Policy violation reports (the policy's report-uri). A
 * violation means the strict policy broke part of the app on some PC, or something tried to run
 * that should not: either way the operator needs to see it in the log. Anyone may post here (the
 * browser sends reports without the session in some cases); it only logs, rate-limited.
 */
export function cspReportRoutes(app: FastifyInstance, log: FastifyBaseLogger): void {
  let windowStart = 0;
  let logged = 0;
  let dropped = 0;
  void app.register(async (scope) => {
    // Report bodies come as these types; parsed here only, not for the rest of the API.
    scope.addContentTypeParser(['application/csp-report', 'application/reports+json'], { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) => {
      try {
        done(null, JSON.parse(body as string));
      } catch {
        done(badRequest('a CSP report must be JSON'), undefined);
      }
    });
    scope.post(cspReportPath, { bodyLimit: 64 * 1024 }, async (req, reply) => {
      const violations = summarizeReports(req.body);
      if (violations.length === 0) throw badRequest('not a CSP violation report');
      const now = Date.now();
      if (now - windowStart > 60_000) {
        if (dropped > 0) log.warn({ dropped }, 'content security policy violations not logged (too many)');
        [windowStart, logged, dropped] = [now, 0, 0];
      }
      for (const v of violations) {
        if (logged < logPerMinute) {
          logged++;
          log.warn({ csp: v }, 'content security policy violation');
        } else dropped++;
      }
      return reply.code(204).send();
    });
  });
}
