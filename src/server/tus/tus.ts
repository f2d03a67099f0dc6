import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Server, EVENTS, type Upload } from '@tus/server';
import type { ServerConfig } from '../config.ts';
import type { Repos } from '../db/repos/index.ts';
import type { UploadRow } from '../db/repos/uploads.ts';
import { ApiError, forbidden, notFound, unauthenticated } from '../http/api-error.ts';
import { editableLab, editorRoles, type AuthContext, type Sessions } from '../auth/session.ts';
import type { IngestQueue } from '../ingest/queue.ts';
import type { Storage } from '../storage.ts';
import { HashingFileStore } from './hashing-store.ts';
import { parsePartMetadata } from './metadata.ts';
import { checkNewPart, finishPart } from './parts.ts';

export interface TusDeps {
  config: ServerConfig;
  repos: Repos;
  storage: Storage;
  sessions: Sessions;
  ingest: IngestQueue;
  log: FastifyBaseLogger;
}

/** Thrown from tus hooks: @tus/server sends status_code and body as they are. */
interface TusHookError {
  status_code: number;
  body: string;
}

const jsonBody = (code: string, message: string): string => JSON.stringify({ error: { code, message } });

function hookError(e: ApiError): TusHookError {
  return { status_code: e.status, body: jsonBody(e.apiCode, e.message) };
}

/** The Node request behind the srvx request @tus/server hands to hooks. */
function nodeReq(req: unknown): IncomingMessage | undefined {
  return (req as { runtime?: { node?: { req?: IncomingMessage } } }).runtime?.node?.req;
}

const tusPath = '/files';
const tusMethods = ['POST', 'HEAD', 'PATCH', 'DELETE', 'OPTIONS', 'GET'];
const idPattern = /^[A-Za-z0-9_-]{1,128}$/;

/** The upload id in /files/<id>, '' for /files or /files/, undefined for anything else. */
export function uploadIdFromUrl(url: string): string | undefined {
  const path = url.split('?')[0];
  if (path === tusPath || path === `${tusPath}/`) return '';
  const rest = path.slice(tusPath.length + 1).replace(/\/$/, '');
  if (!path.startsWith(`${tusPath}/`) || !idPattern.test(rest)) return undefined;
  return rest;
}

/**
 * tus 1.0 at /files/ (creation, termination, expiration) on the file store, behind our sessions:
 * the Fastify route decides who may touch which upload before @tus/server sees the request.
 */
export function mountTus(app: FastifyInstance, deps: TusDeps): { cleanup(): Promise<number>; datastore: HashingFileStore } {
  const { repos, storage, sessions, config, log } = deps;
  const datastore = new HashingFileStore({ directory: storage.uploadsDir, expirationPeriodInMilliseconds: config.uploadExpiryHours * 3600 * 1000 });
  // Requests whose error body we wrote as JSON, so the response can say so (tus writes text/plain).
  const jsonResponses = new WeakSet<IncomingMessage>();

  const tus = new Server({
    path: tusPath,
    datastore,
    maxSize: config.maxUploadBytes,
    relativeLocation: true,
    respectForwardedHeaders: config.trustProxy,
    exposedHeaders: ['X-Scan-Id', 'X-Part-Status'],
    async onUploadCreate(req, upload: Upload) {
      const raw = nodeReq(req);
      const auth = raw && sessions.fromRaw(raw);
      if (!auth) throw hookError(unauthenticated());
      if (upload.sizeIsDeferred || upload.size === undefined) throw hookError(new ApiError(400, 'BAD_REQUEST', 'Upload-Length is required'));
      const md = parsePartMetadata(upload.metadata);
      if (typeof md === 'string') throw hookError(new ApiError(400, 'BAD_METADATA', md));
      try {
        const lab = editableLab(auth);
        checkNewPart(repos, lab.id, md);
        repos.uploads.create({ id: upload.id, labId: lab.id, userId: auth.user.id, size: upload.size, ...md });
      } catch (e) {
        if (e instanceof ApiError) throw hookError(e);
        throw e;
      }
      return { metadata: upload.metadata };
    },
    async onUploadFinish(req, upload: Upload) {
      const raw = nodeReq(req);
      const row = repos.uploads.byIdForAccessCheck(upload.id);
      if (!row) throw hookError(notFound('upload not found'));
      // The hash of what is on disk (kept up to date while the bytes arrived): the hash the client
      // sent covers the bytes it meant to send.
      const actual = await datastore.sha256(upload.id, upload.size ?? upload.offset);
      const r = await finishPart(repos, storage, row, actual);
      log.info({ uploadId: row.id, scanId: r.scan.id, part: row.part, outcome: r.outcome }, 'upload part finished');
      const headers = { 'X-Scan-Id': String(r.scan.id), 'X-Part-Status': r.outcome };
      if (r.outcome === 'complete' && r.readyForIngest) deps.ingest.enqueue(row.labId, r.scan.id);
      if (r.outcome === 'complete' || r.outcome === 'duplicate') {
        if (r.outcome === 'duplicate') await datastore.remove(upload.id).catch(() => undefined);
        return { headers };
      }
      // The stored bytes are useless: free the space; the client must send the part again.
      await datastore.remove(upload.id).catch(() => undefined);
      if (raw) jsonResponses.add(raw);
      if (r.outcome === 'corrupt') {
        // 460 is tus's "Checksum Mismatch"; tus-js-client does not retry a 4xx, it reports it.
        return { status_code: 460, headers, body: jsonBody('CHECKSUM_MISMATCH', 'the received bytes do not match the sha256 announced for this part; send the part again') };
      }
      return { status_code: 409, headers, body: jsonBody('CONFLICT', 'this part of the slide was already stored with different content') };
    },
    onResponseError(req, err) {
      const raw = nodeReq(req);
      if (raw) jsonResponses.add(raw);
      const e = err as Partial<TusHookError> & { message?: string };
      const status = typeof e.status_code === 'number' ? e.status_code : 500;
      if (typeof e.body === 'string' && e.body.startsWith('{"error"')) return { status_code: status, body: e.body };
      if (status >= 500) {
        log.error({ err: { name: (err as Error).name, code: (err as { code?: string }).code, stack: (err as Error).stack } }, 'tus request failed');
        return { status_code: status, body: jsonBody('INTERNAL', 'the upload could not be stored; try again') };
      }
      return { status_code: status, body: jsonBody('TUS_ERROR', (e.body ?? 'upload request rejected').trim()) };
    },
  });

  tus.on(EVENTS.POST_TERMINATE, (_req, _res, id: string) => {
    const row = repos.uploads.byIdForAccessCheck(id);
    if (row) repos.uploads.markTerminated(row.labId, id);
  });

  function gate(req: FastifyRequest): { auth: AuthContext; upload?: UploadRow } {
    const auth = sessions.require(req);
    const id = uploadIdFromUrl(req.url);
    if (id === undefined) throw notFound('upload not found');
    if (req.method === 'POST') {
      if (id !== '') throw notFound('upload not found');
      const lab = editableLab(auth);
      if (!lab.features.includes('bulk-import')) throw new ApiError(403, 'FEATURE_DISABLED', 'bulk import is not enabled for this lab');
      return { auth };
    }
    if (id === '') throw notFound('upload not found');
    const upload = repos.uploads.byIdForAccessCheck(id);
    const lab = upload && auth.labs.find((l) => l.id === upload.labId);
    // Bound to its creator: for anyone else the upload does not exist (no 403 that would confirm it does).
    if (!upload || !lab || upload.userId !== auth.user.id) throw notFound('upload not found');
    if (req.method !== 'HEAD' && req.method !== 'GET' && !editorRoles.includes(lab.role)) throw forbidden('your role in this lab is read-only');
    if (req.method === 'PATCH' && !lab.features.includes('bulk-import')) throw new ApiError(403, 'FEATURE_DISABLED', 'bulk import is not enabled for this lab');
    return { auth, upload };
  }

  async function handle(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    // @tus/server answers these two itself, in text/plain and before any hook: answer them here, in JSON.
    if (!tusMethods.includes(req.method)) {
      reply.header('allow', tusMethods.join(', '));
      throw new ApiError(405, 'METHOD_NOT_ALLOWED', `${req.method} is not a tus method`);
    }
    if (req.method !== 'OPTIONS') gate(req);
    if (req.method !== 'OPTIONS' && req.method !== 'GET' && req.headers['tus-resumable'] === undefined) {
      reply.header('tus-version', '1.0.0');
      throw new ApiError(412, 'TUS_RESUMABLE_REQUIRED', 'the Tus-Resumable header is required');
    }
    reply.hijack();
    const res: ServerResponse = reply.raw;
    const writeHead = res.writeHead;
    // Our error bodies are JSON; tus would label them text/plain.
    res.writeHead = function (this: ServerResponse, status: number, ...rest: unknown[]) {
      if (status >= 400 && jsonResponses.has(req.raw)) {
        for (const h of rest) {
          if (Array.isArray(h)) {
            for (let i = 0; i < h.length; i += 2) if (String(h[i]).toLowerCase() === 'content-type') h[i + 1] = 'application/json; charset=utf-8';
          }
        }
        if (!rest.some((h) => Array.isArray(h) && h.some((x, i) => i % 2 === 0 && String(x).toLowerCase() === 'content-type'))) res.setHeader('content-type', 'application/json; charset=utf-8');
      }
      return (writeHead as (...a: unknown[]) => ServerResponse).call(this, status, ...rest);
    } as typeof res.writeHead;
    try {
      await tus.handle(req.raw, res);
    } catch (e) {
      log.error({ err: { name: (e as Error).name, stack: (e as Error).stack } }, 'tus handler crashed');
      if (!res.headersSent) {
        res.statusCode = 500;
        res.setHeader('content-type', 'application/json; charset=utf-8');
        res.end(jsonBody('INTERNAL', 'upload failed'));
      } else res.destroy();
    }
  }

  // tus bodies are streamed by @tus/server itself: Fastify must not read them.
  app.addContentTypeParser('application/offset+octet-stream', (_req, _payload, done) => done(null));
  app.all(tusPath, handle);
  app.all(`${tusPath}/*`, handle);

  return {
    datastore,
    async cleanup(): Promise<number> {
      const n = await tus.cleanUpExpiredUploads();
      const cutoff = new Date(Date.now() - config.uploadExpiryHours * 3600 * 1000).toISOString();
      // The store deleted the bytes; mark the rows so /api/uploads/slide shows them as gone.
      repos.uploads.expireUnfinishedBefore(cutoff);
      return n;
    },
  };
}
