import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';

export const requestIdHeader = 'x-request-id';

/**
 * What an incoming X-Request-Id must look like to be kept: a proxy's or a client's own id (UUIDs,
 * hex, base64url) — short, and nothing that could carry a log injection or a name.
 */
export const requestIdPattern = /^[A-Za-z0-9._-]{8,128}$/;

/** The caller's X-Request-Id when it is well-formed, else a new random one. */
export function requestIdFor(header: string | string[] | undefined): string {
  const v = Array.isArray(header) ? header[0] : header;
  return v !== undefined && requestIdPattern.test(v) ? v : randomUUID();
}

/** Fastify's genReqId: called once per request with the Node request. */
export const genReqId = (raw: IncomingMessage): string => requestIdFor(raw.headers[requestIdHeader]);

/**
 * The id of the request whose work is running now. Fastify's request loggers (req.log) carry
 * `reqId` already; this lets log lines written through the app's root logger on a request's
 * behalf (tus hooks, routes' deps.log, the ingest a request queued) carry it too.
 */
const current = new AsyncLocalStorage<string>();

/** The id of the request this code runs for, if any (stored with work another process may do). */
export const currentRequestId = (): string | undefined => current.getStore();

/** Run fn as work of that request (its log lines carry the id), or outside any when undefined. */
export function runAsRequest<T>(requestId: string | undefined, fn: () => T): T {
  return requestId === undefined ? current.exit(fn) : current.run(requestId, fn);
}

/**
 * pino mixin for the root logger: adds the current request's id unless the logger already binds
 * one (a request's child logger), so no line carries the key twice.
 */
export function requestIdMixin(_obj: object, _level: number, logger?: { bindings(): Record<string, unknown> }): Record<string, unknown> {
  const reqId = current.getStore();
  if (reqId === undefined || (logger && 'reqId' in logger.bindings())) return {};
  return { reqId };
}

/**
 * Echo the id in X-Request-Id on every response (errors and tus's hijacked replies included: it is
 * set on the raw response, which Node merges into whatever writeHead sends) and run the rest of the
 * request inside its id's context. Register before any hook that may refuse a request.
 */
export function registerRequestId(app: FastifyInstance): void {
  app.addHook('onRequest', (req, reply, done) => {
    reply.raw.setHeader(requestIdHeader, req.id);
    current.run(req.id, done);
  });
  // Body parsing resumes from the socket's events, outside that context: enter it again.
  app.addHook('preHandler', (req, _reply, done) => {
    current.run(req.id, done);
  });
}
