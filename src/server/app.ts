import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import fastifyRateLimit from '@fastify/rate-limit';
import { SlideError } from '../shared/errors.ts';
import type { ServerConfig } from './config.ts';
import { openDatabase } from './db/database.ts';
import { createRepos, type Repos } from './db/repos/index.ts';
import { seedIfEmpty, type FirstAdmin } from './db/seed.ts';
import { registerSessionLoading, Sessions } from './auth/session.ts';
import { SignInThrottle } from './auth/rate-limit.ts';
import { ApiError, errorBody, statusForSlideCode } from './http/api-error.ts';
import { freeBytes, storageApiError, storageFailureOf, storageRetryAfterSeconds } from './http/storage-errors.ts';
import { registerSecurityHeaders } from './http/security-headers.ts';
import { registerSameOriginCheck } from './http/same-origin.ts';
import { IngestQueue } from './ingest/queue.ts';
import { Storage } from './storage.ts';
import { mountTus } from './tus/tus.ts';
import { pgLockerFor } from './tus/pg-locker.ts';
import type { UploadStore } from './storage/tus-datastore.ts';
import { describeStorage } from './storage/storage-config.ts';
import type { RouteDeps } from './routes/deps.ts';
import { authRoutes } from './routes/auth.ts';
import { scanRoutes } from './routes/scans.ts';
import { caseRoutes } from './routes/cases.ts';
import { labRoutes } from './routes/labs.ts';
import { uploadRoutes } from './routes/uploads.ts';
import { cspReportRoutes } from './routes/csp-report.ts';
import { storageRoutes } from './routes/storage.ts';
import { apiTokenRoutes } from './routes/api-tokens.ts';
import { batchRoutes } from './routes/batches.ts';
import { registerTokenScope } from './auth/token-scope.ts';
import { Metrics, registerHttpMetrics } from './ops/metrics.ts';
import { databaseCheck, folderWritableCheck } from './ops/readiness.ts';
import { genReqId, registerRequestId, requestIdMixin } from './ops/request-id.ts';
import { opsRoutes } from './ops/routes.ts';

export interface BuiltApp {
  app: FastifyInstance;
  /** Stops timers and ingest, closes the HTTP server and the database. */
  close(): Promise<void>;
  repos: Repos;
  storage: Storage;
  ingest: IngestQueue;
  /** The tus store (its running upload hashes; tests read its counters): file store or S3Store. */
  uploadStore: UploadStore;
  /** Set on the start that created the first admin (main prints it once). */
  firstAdmin: FirstAdmin | null;
}

const housekeepingMs = 60 * 60 * 1000;
/** Files a Direct Upload zip may hold: a DICOM slide is tens of instances, not hundreds of thousands. */
const maxZipEntries = 10000;

export async function buildApp(config: ServerConfig): Promise<BuiltApp> {
  const storage = new Storage(config.dataDir, config.storage);
  const db = await openDatabase({ ...(config.databaseUrl !== undefined ? { url: config.databaseUrl } : {}), sqliteFile: storage.dbFile });
  const repos = createRepos(db);
  const firstAdmin = await seedIfEmpty(repos, config);

  const app = Fastify({
    // Only the listed proxies' X-Forwarded-For/-Proto count (proxy-addr walks the chain from the
    // right and stops at the first untrusted hop); anyone else's are ignored.
    trustProxy: config.trustProxy.length > 0 ? [...config.trustProxy] : false,
    // On shutdown, cut connections still in a request (an upload's PATCH, a Range read) instead of
    // waiting for their timeouts: tus uploads resume, viewers retry.
    forceCloseConnections: true,
    // A well-formed X-Request-Id from the proxy or client is kept (logs line up across hops), else a new UUID.
    genReqId,
    // Request logs carry method and path only: query strings (searches) and bodies may hold PHI.
    logger:
      config.logLevel === false
        ? false
        : {
            level: config.logLevel,
            // Lines written through app.log on a request's behalf carry its reqId too (ops/request-id.ts).
            mixin: requestIdMixin,
            serializers: {
              req: (r: { method: string; url: string }) => ({ method: r.method, path: r.url.split('?')[0] }),
              res: (r: { statusCode: number }) => ({ statusCode: r.statusCode }),
            },
          },
  });

  // First hooks of all: the request id and the request metrics also cover requests refused later.
  const metrics = new Metrics();
  registerRequestId(app);
  registerHttpMetrics(app, metrics);

  const sessions = new Sessions(repos, config);
  const ingest = new IngestQueue(
    repos,
    storage,
    { maxExtractBytes: config.maxExtractBytes, maxExtractEntries: maxZipEntries },
    (e) => app.log.error({ err: { name: (e as Error).name, stack: (e as Error).stack } }, 'ingest crashed'),
    // Ids and status only: an outcome's message names the client's file (and a quarantine's problems
    // are for the lab, on the scan, not for the server's log).
    (labId, scanId, o) => (o.status === 'quarantined' ? app.log.warn({ labId, scanId, status: o.status }, 'scan quarantined: failed verification') : app.log.info({ labId, scanId, status: o.status, thumbnail: o.thumbnail }, 'scan ingested')),
  );
  ingest.onTimed = (seconds, status) => metrics.ingestFinished(seconds, status);
  metrics.ingestDepth = () => ingest.depth();
  // Not global: only routes that ask for it (sign-in) are rate limited.
  await app.register(fastifyRateLimit, { global: false });
  const throttle = SignInThrottle.create(app, config.signInThrottle);
  const deps: RouteDeps = { config, repos, sessions, throttle, ingest, storage, log: app.log };

  // Security headers (CSP, HSTS over TLS, …) on every response, tus included; then refuse
  // cross-site state changes before anything reads the session or the body.
  await registerSecurityHeaders(app);
  registerSameOriginCheck(app);
  // API tokens (bearer): authenticated up front, and held to their scope on every route, tus included.
  // Sessions and API tokens are looked up once per request, before anything asks who is signed in.
  registerSessionLoading(app, sessions);
  registerTokenScope(app, sessions);

  app.setErrorHandler((err: FastifyError | SlideError | Error, req, reply) => {
    let status = 500;
    let code = 'INTERNAL';
    let message = 'internal error';
    if (err instanceof ApiError) [status, code, message] = [err.status, err.apiCode, err.message];
    else if (err instanceof SlideError) [status, code, message] = [statusForSlideCode(err.code), err.code, err.message];
    else if ((err as FastifyError).validation) [status, code, message] = [400, 'BAD_REQUEST', err.message];
    else {
      const sc = (err as FastifyError).statusCode;
      // Fastify's own 4xx (bad JSON, unsupported media type, body too large) have safe messages.
      if (sc !== undefined && sc >= 400 && sc < 500) [status, code, message] = [sc, (err as FastifyError).code ?? 'BAD_REQUEST', err.message];
    }
    // A full disk (SQLITE_FULL, ENOSPC) or unwritable storage is not a bug: say so (507/503), so
    // clients wait and retry instead of reporting an internal error.
    const failure = status === 500 ? storageFailureOf(err, config.dataDir) : undefined;
    if (failure) {
      const e = storageApiError(failure);
      [status, code, message] = [e.status, e.apiCode, e.message];
      reply.header('retry-after', String(storageRetryAfterSeconds));
      // The errno/SQLite code and the route, never the statement or values (they may hold PHI).
      req.log.error({ storage: failure, code: (err as { code?: string }).code, freeBytes: freeBytes(config.dataDir) }, failure === 'full' ? 'request failed: server storage full' : 'request failed: storage unavailable');
    } else if (status >= 500) req.log.error({ err: { name: err.name, stack: err.stack } }, 'request failed');
    metrics.apiError(code, status);
    return reply.code(status).type('application/json; charset=utf-8').send(errorBody(code, message));
  });

  const indexHtml = join(config.publicDir, 'index.html');
  const hasShell = existsSync(indexHtml);
  if (hasShell) await app.register(fastifyStatic, { root: config.publicDir, prefix: '/', wildcard: true });

  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0];
    const isAppRoute = !path.startsWith('/api/') && path !== '/api' && !path.startsWith('/files') && !/\.[A-Za-z0-9]{1,8}$/.test(path);
    // Client-side routes (/scans/12, /import) get the app shell; the PWA router takes it from there.
    if (hasShell && (req.method === 'GET' || req.method === 'HEAD') && isAppRoute) {
      return reply.header('cache-control', 'no-cache').sendFile('index.html');
    }
    metrics.apiError('NOT_FOUND', 404);
    return reply.code(404).type('application/json; charset=utf-8').send(errorBody('NOT_FOUND', 'not found'));
  });

  opsRoutes(app, {
    checks: [
      databaseCheck(() => repos.db.ping()),
      // The data folder takes writes, or the bucket answers a HEAD (S3 storage).
      storage.localDisk ? folderWritableCheck(config.dataDir) : { name: 'storage', check: (signal) => storage.probeBucket(signal) },
    ],
    metrics,
    metricsToken: config.metricsToken,
  });
  authRoutes(app, deps);
  scanRoutes(app, deps);
  caseRoutes(app, deps);
  labRoutes(app, deps);
  uploadRoutes(app, deps);
  cspReportRoutes(app, app.log);
  storageRoutes(app, deps);
  apiTokenRoutes(app, deps);
  batchRoutes(app, deps);
  // Several instances on one PostgreSQL database share tus's locks there (an upload cut off on one
  // instance continues on another); SQLite means one instance, whose locks are in memory.
  const locks = db.dialect === 'postgres' && config.databaseUrl ? pgLockerFor(config.databaseUrl) : undefined;
  const tus = mountTus(app, { config, repos, storage, sessions, ingest, log: app.log, metrics, ...(locks ? { locker: locks.locker } : {}) });

  const housekeeping = async (): Promise<void> => {
    try {
      await repos.sessions.deleteExpired(Date.now());
      await tus.cleanup();
    } catch (e) {
      app.log.error({ err: { name: (e as Error).name, stack: (e as Error).stack } }, 'housekeeping failed');
    }
  };
  const timer = setInterval(() => void housekeeping(), housekeepingMs);
  timer.unref();
  await app.ready();
  // Where bytes are kept, without secrets (bucket, prefix, endpoint; never credentials).
  app.log.info({ storage: describeStorage(storage.config) }, 'storage');
  await housekeeping();
  // Jobs left by a crash, a shutdown or another instance are taken from the database; scans left
  // 'processing' without a job are queued first.
  await ingest.adoptOrphans();
  ingest.start();

  let closed = false;
  return {
    app,
    repos,
    storage,
    ingest,
    uploadStore: tus.datastore,
    firstAdmin,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      await ingest.close();
      await app.close();
      await locks?.close();
      storage.close();
      await db.close();
      metrics.registry.clear();
    },
  };
}
