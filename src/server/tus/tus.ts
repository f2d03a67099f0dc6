import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Server, EVENTS, type Upload } from '@tus/server';
import type { Locker } from '@tus/utils';
import type { ServerConfig } from '../config.ts';
import type { Repos } from '../db/repos/index.ts';
import type { UploadRow } from '../db/repos/uploads.ts';
import { ApiError, forbidden, notFound, unauthenticated } from '../http/api-error.ts';
import { editableLab, editorRoles, type AuthContext, type Sessions } from '../auth/session.ts';
import type { IngestQueue } from '../ingest/queue.ts';
import type { Storage } from '../storage.ts';
import type { UploadStore } from '../storage/tus-datastore.ts';
import { answeredFinishedPatch, clientErrorAnswer, isFinished, terminatedWhileSending } from './edge-cases.ts';
import { parsePartMetadata } from './metadata.ts';
import { announcedDigest, isDeferred, mismatchMessage, withAnnouncedDigest } from './deferred-digest.ts';
import { DEFERRED_SHA256 } from '../../shared/upload-digest.ts';
import { checkNewPart, finishPart, type FinishResult } from './parts.ts';
import { cleanUpUploads, type CleanupResult } from './upload-cleanup.ts';
import { checkDiskSpace, checkLabQuota } from '../storage-quota.ts';
import { freeBytes, storageApiError, storageFailureOf } from '../http/storage-errors.ts';
import type { Metrics } from '../ops/metrics.ts';
import { meterStoreWrites } from '../ops/upload-metrics.ts';

export interface TusDeps {
  config: ServerConfig;
  repos: Repos;
  storage: Storage;
  sessions: Sessions;
  ingest: IngestQueue;
  log: FastifyBaseLogger;
  /** Upload counters and gauges (ops/metrics.ts); absent, nothing is measured. */
  metrics?: Metrics;
  /** Locks shared by all instances (PostgreSQL: pg-locker.ts); absent, @tus/server's in-memory locks. */
  locker?: Locker;
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
export function mountTus(app: FastifyInstance, deps: TusDeps): { cleanup(): Promise<CleanupResult>; datastore: UploadStore } {
  const { repos, storage, sessions, config, log, metrics } = deps;
  // The data directory's file store, or S3Store on the bucket (storage/tus-datastore.ts).
  const datastore = storage.createUploadStore(config.uploadExpiryHours * 3600 * 1000, (id) => {
    // Its file could not be created (full disk): the row must not hold quota until it expires.
    void terminateRow(id);
  });
  /** The upload's row ends as terminated (after tus removed it, or its file could not be made). */
  async function terminateRow(id: string): Promise<void> {
    try {
      const row = await repos.uploads.byIdForAccessCheck(id);
      if (row) await repos.uploads.markTerminated(row.labId, id);
    } catch (e) {
      log.error({ err: { name: (e as Error).name, stack: (e as Error).stack } }, 'marking an upload terminated failed');
    }
  }
  // For benchmarks (WSI_LOG_LEVEL=debug): when a request's first body byte arrived, as epoch ms
  // with a fraction (test/e2e/support/server.ts reads it back). Ids and offsets only.
  if (metrics) meterStoreWrites(datastore, (n) => metrics.bytesReceived.inc(n));
  datastore.onBodyStart = (id, offset) => log.debug({ uploadId: id, offset, receivedAt: performance.timeOrigin + performance.now() }, 'upload body: first byte received');
  /** Finishing in progress per upload id, so a HEAD that re-runs finishing never races it. */
  const finishing = new Map<string, Promise<FinishResult>>();

  /**
   * Record a finished upload (hash, scan, ingest) once. A finish that failed (a full disk while
   * storing or recording the part) leaves the row 'uploading' with all its bytes; the client's
   * next HEAD runs it again (see handle()).
   */
  function finishUpload(row: UploadRow, size: number): Promise<FinishResult> {
    const running = finishing.get(row.id);
    if (running) return running;
    const p = (async () => {
      // The hash of what is on disk (kept up to date while the bytes arrived): the hash the client
      // sent covers the bytes it meant to send.
      const actual = await datastore.sha256(row.id, size);
      const r = await finishPart(repos, storage, row, actual);
      log.info({ uploadId: row.id, scanId: r.scan.id, part: row.part, outcome: r.outcome }, 'upload part finished');
      metrics?.uploadsFinished.inc({ outcome: r.outcome });
      if (r.outcome === 'corrupt' || r.outcome === 'conflict') metrics?.uploadsFailed.inc({ reason: r.outcome });
      if (r.outcome === 'complete' && r.readyForIngest) await deps.ingest.enqueue(row.labId, r.scan.id);
      return r;
    })().finally(() => finishing.delete(row.id));
    finishing.set(row.id, p);
    return p;
  }

  /** A finished upload's bytes now live with its scan (or are useless): drop the tus copy and its `.json`. */
  function removeFinished(id: string): void {
    void storage.removeUpload(id).catch((e: unknown) => log.warn({ uploadId: id, code: (e as { code?: string }).code }, 'could not remove a finished upload'));
  }
  // Requests whose error body we wrote as JSON, so the response can say so (tus writes text/plain).
  const jsonResponses = new WeakSet<IncomingMessage>();

  const tus = new Server({
    path: tusPath,
    datastore,
    ...(deps.locker ? { locker: deps.locker } : {}),
    maxSize: config.maxUploadBytes,
    relativeLocation: true,
    // Locations are relative, so forwarded host/proto are never needed (and tus would believe them
    // from any peer, not only the configured proxies).
    respectForwardedHeaders: false,
    exposedHeaders: ['X-Scan-Id', 'X-Part-Status'],
    // Same-origin only (see http/same-origin.ts): no Access-Control-Allow-Origin for anyone else
    // (tus's default is '*').
    allowedOrigins: [],
    // A DELETE that gets the lock after the last bytes arrived would pull the file from under the
    // finish that is storing it as a scan part: refused (409, see clientErrorAnswer).
    disableTerminationForFinishedUploads: true,
    async onUploadCreate(req, upload: Upload) {
      const raw = nodeReq(req);
      const auth = raw && sessions.fromRaw(raw);
      if (!auth) throw hookError(unauthenticated());
      if (upload.sizeIsDeferred || upload.size === undefined) throw hookError(new ApiError(400, 'BAD_REQUEST', 'Upload-Length is required'));
      const md = parsePartMetadata(upload.metadata);
      if (typeof md === 'string') throw hookError(new ApiError(400, 'BAD_METADATA', md));
      // A creation that carries the last byte (creation-with-upload) may name the digest too.
      if (md.sha256 === DEFERRED_SHA256 && raw) {
        try {
          announcedDigest(raw.headers);
        } catch (e) {
          throw hookError(e as ApiError);
        }
      }
      try {
        const lab = editableLab(auth);
        await checkNewPart(repos, lab.id, md);
        // Refused before a byte is sent: a file the disk cannot hold now (507, the client retries
        // later), or one the lab's quota has no room for (413, that file fails, the batch goes on).
        // Only a disk of our own can be full in a way we can see; a bucket has no free-space figure.
        if (storage.localDisk) checkDiskSpace(storage.dataDir, upload.size);
        const size = upload.size;
        await repos.transaction(async (tx) => {
          await checkLabQuota(tx, config, lab.id, size);
          await tx.uploads.create({ id: upload.id, labId: lab.id, userId: auth.user.id, size, ...md });
          // The batch's record starts with its first upload; a token is the CLI, a session the web app.
          await tx.batches.ensure(lab.id, md.batchId, auth.viaToken ? 'cli' : 'web', auth.user.id);
        });
      } catch (e) {
        if (e instanceof ApiError) {
          if (e.status === 413 || e.status === 507) log.warn({ labId: auth.currentLab?.id, bytes: upload.size, code: e.apiCode }, 'upload refused: no room');
          throw hookError(e);
        }
        throw e;
      }
      return { metadata: upload.metadata };
    },
    async onUploadFinish(req, upload: Upload) {
      const raw = nodeReq(req);
      const row = await repos.uploads.byIdForAccessCheck(upload.id);
      if (!row) throw hookError(notFound('upload not found'));
      // Already finished (a zero-byte PATCH that slipped past handle()): finishing again would
      // rewrite the row's outcome and remove the bytes the scan holds. A no-op instead.
      if (isFinished(row)) return row.scanId === null ? {} : { headers: { 'X-Scan-Id': String(row.scanId) } };
      // A deferred upload's digest comes with the request that carried its last byte (this one).
      const announced = await withAnnouncedDigest(repos, row, raw?.headers);
      const r = await finishUpload(announced, upload.size ?? upload.offset);
      const headers = { 'X-Scan-Id': String(r.scan.id), 'X-Part-Status': r.outcome };
      if (r.outcome === 'complete' || r.outcome === 'duplicate') {
        if (r.outcome === 'duplicate') await datastore.remove(upload.id).catch(() => undefined);
        return { headers };
      }
      // The stored bytes are useless: free the space; the client must send the part again.
      await datastore.remove(upload.id).catch(() => undefined);
      if (raw) jsonResponses.add(raw);
      if (r.outcome === 'corrupt') {
        // 460 is tus's "Checksum Mismatch"; tus-js-client does not retry a 4xx, it reports it.
        return { status_code: 460, headers, body: jsonBody('CHECKSUM_MISMATCH', mismatchMessage(announced)) };
      }
      return { status_code: 409, headers, body: jsonBody('CONFLICT', 'this part of the slide was already stored with different content') };
    },
    onResponseError(req, err) {
      const raw = nodeReq(req);
      if (raw) jsonResponses.add(raw);
      const e = err as Partial<TusHookError> & { message?: string };
      const status = typeof e.status_code === 'number' ? e.status_code : 500;
      if (typeof e.body === 'string' && e.body.startsWith('{"error"')) return { status_code: status, body: e.body };
      const clientError = clientErrorAnswer(err);
      if (clientError) return clientError;
      // A full disk while creating, writing or finishing: 507, so the client pauses and retries.
      // @tus/server may report a write that ran out of space as aborted (400) or failed (500).
      const id = raw ? uploadIdFromUrl(raw.url ?? '') : undefined;
      const failure = storageFailureOf(err, storage.dataDir) ?? (id && datastore.lastWriteHitFullDisk(id) && (status === 400 || status >= 500) ? 'full' : undefined);
      if (failure) {
        log.error({ uploadId: id || undefined, method: raw?.method, storage: failure, freeBytes: freeBytes(storage.dataDir) }, failure === 'full' ? 'upload failed: server storage full' : 'upload failed: storage unavailable');
        metrics?.uploadsFailed.inc({ reason: failure === 'full' ? 'storage_full' : 'storage_unavailable' });
        const api = storageApiError(failure);
        return { status_code: api.status, body: jsonBody(api.apiCode, api.message) };
      }
      if (status >= 500) {
        metrics?.uploadsFailed.inc({ reason: 'internal' });
        log.error({ err: { name: (err as Error).name, code: (err as { code?: string }).code, stack: (err as Error).stack } }, 'tus request failed');
        return { status_code: status, body: jsonBody('INTERNAL', 'the upload could not be stored; try again') };
      }
      return { status_code: status, body: jsonBody('TUS_ERROR', (e.body ?? 'upload request rejected').trim()) };
    },
  });

  tus.on(EVENTS.POST_CREATE, () => metrics?.uploadsCreated.inc());

  tus.on(EVENTS.POST_TERMINATE, (_req, _res, id: string) => void terminateRow(id));

  // After the response (a creation-with-upload POST still reads the upload after its finish hook):
  // the scan holds the bytes (hard link), so the tus copy and its `.json` — which holds the file
  // name — go now instead of lingering until expiry.
  tus.on(EVENTS.POST_FINISH, (_req, _res, upload: Upload) => {
    void (async () => {
      const row = await repos.uploads.byIdForAccessCheck(upload.id);
      if (row && row.status !== 'uploading') removeFinished(upload.id);
    })().catch((e: unknown) => log.error({ err: { name: (e as Error).name, stack: (e as Error).stack } }, 'finished upload cleanup failed'));
  });

  async function gate(req: FastifyRequest): Promise<{ auth: AuthContext; upload?: UploadRow }> {
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
    const upload = await repos.uploads.byIdForAccessCheck(id);
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
    const gated = req.method !== 'OPTIONS' ? await gate(req) : undefined;
    if (req.method !== 'OPTIONS' && req.method !== 'GET' && req.headers['tus-resumable'] === undefined) {
      reply.header('tus-version', '1.0.0');
      throw new ApiError(412, 'TUS_RESUMABLE_REQUIRED', 'the Tus-Resumable header is required');
    }
    if (gated?.upload && req.method === 'HEAD' && (await answeredFromRecord(gated.upload, reply))) return;
    // Finishing ran once; a PATCH of a finished upload is answered from its record (edge-cases.ts).
    if (gated?.upload && req.method === 'PATCH' && (await answeredFinishedPatch(gated.upload, req, reply))) return;
    // A malformed digest is refused before a byte of the body is stored (deferred uploads only:
    // classic uploads ignore the header, as they always did).
    if (gated?.upload && req.method === 'PATCH' && isDeferred(gated.upload)) {
      try {
        announcedDigest(req.headers);
      } catch (e) {
        // The unread body must not be taken for the next request on this connection.
        reply.header('tus-resumable', '1.0.0').header('connection', 'close');
        throw e;
      }
    }
    // A PATCH still sending this upload ends now with 410 instead of holding the DELETE for tus's
    // lock drain timeout and then being told 204 (terminable-store.ts).
    if (gated?.upload && req.method === 'DELETE') datastore.stopWrite(gated.upload.id, terminatedWhileSending());
    // "Uploads in flight": uploads with a PATCH (bytes on the way) in progress.
    if (metrics && gated?.upload && req.method === 'PATCH') reply.raw.once('close', metrics.uploadRequestStarted(gated.upload.id));
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

  /**
   * HEAD of an upload whose bytes are no longer in the tus store or whose finish is pending.
   * A finished part (its tus copy is removed at once) reports its full length, so a client that
   * lost the last PATCH's answer sees it is done instead of starting over. An unfinished one whose
   * bytes are all there (its finish failed, e.g. on a full disk) is finished now. Returns false
   * to let @tus/server answer.
   */
  async function answeredFromRecord(upload: UploadRow, reply: FastifyReply): Promise<boolean> {
    let row = upload;
    if (row.status === 'uploading') {
      const stored = await storage.uploadBytes(row.id);
      if (stored !== row.size || row.size === 0) return false;
      // Read again after the await: a finish that completed meanwhile must not run twice.
      const fresh = await repos.uploads.byIdForAccessCheck(row.id);
      try {
        if (fresh?.status === 'uploading' || finishing.has(row.id)) await finishUpload(fresh ?? row, row.size);
      } catch (e) {
        const failure = storageFailureOf(e, storage.dataDir);
        if (!failure) throw e;
        log.error({ uploadId: row.id, storage: failure, freeBytes: freeBytes(storage.dataDir) }, 'finishing an upload failed again: server storage full');
        reply.header('tus-resumable', '1.0.0');
        throw storageApiError(failure);
      }
      row = await repos.uploads.byIdForAccessCheck(row.id) ?? row;
      if (row.status !== 'uploading') removeFinished(row.id);
    }
    if (row.status !== 'complete' && row.status !== 'duplicate') return false;
    await reply
      .code(200)
      .header('tus-resumable', '1.0.0')
      .header('upload-offset', String(row.size))
      .header('upload-length', String(row.size))
      .header('cache-control', 'no-store')
      .send();
    return true;
  }

  // tus bodies are streamed by @tus/server itself: Fastify must not read them.
  app.addContentTypeParser('application/offset+octet-stream', (_req, _payload, done) => done(null));
  app.all(tusPath, handle);
  app.all(`${tusPath}/*`, handle);

  return {
    datastore,
    async cleanup(): Promise<CleanupResult> {
      const r = await cleanUpUploads(repos, storage, new Date(Date.now() - config.uploadExpiryHours * 3600 * 1000), datastore);
      if (r.expired + r.finished + r.orphans > 0) log.info({ ...r }, 'upload files cleaned up');
      return r;
    },
  };
}
