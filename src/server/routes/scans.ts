import { SCAN_NAME_MAX, validateScanName } from '../../shared/scan-name.ts';
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { currentLab, editableLab } from '../auth/session.ts';
import { scanStatuses, type CaseLinkState, type ScanRow } from '../db/repos/scans.ts';
import { listQuery } from './scans-query.ts';
import { ApiError, badRequest, conflict, forbidden, notFound } from '../http/api-error.ts';
import { storageFailureOf } from '../http/storage-errors.ts';
import { idParam, objectBody, queryInt, stringField, type RouteDeps } from './deps.ts';
import { previewReprocess } from '../ingest/preview.ts';

const validMpp = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0 && v <= 1000;

/** Why a scan is quarantined and whether its bytes are still held; null for any other scan. */
function quarantineJson(s: ScanRow) {
  if (s.status !== 'quarantined') return null;
  return {
    problems: s.verifyProblemsJson ? (JSON.parse(s.verifyProblemsJson) as string[]) : [],
    filesRemoved: s.filesRemovedAt ? { at: s.filesRemovedAt, by: s.filesRemovedBy !== null ? { id: s.filesRemovedBy, username: s.filesRemovedByName } : null } : null,
  };
}

/** Quarantined bytes are never served, to anyone (the scan is listed; its bytes are not viewable). */
function refuseQuarantined(s: ScanRow): void {
  if (s.status === 'quarantined') throw new ApiError(409, 'SCAN_QUARANTINED', 'this scan failed verification on the server and is quarantined: its files are not viewable');
}

/**
 * The case the upload asked for and what linking made of it (issue 14); null when it asked for
 * none, or while the scan has not settled (uploading, processing).
 */
export function caseLinkJson(s: ScanRow): { caseNumber: string; state: CaseLinkState } | null {
  return s.caseNumber && s.caseLinkState ? { caseNumber: s.caseNumber, state: s.caseLinkState } : null;
}

export function scanJson(s: ScanRow, cases: { id: number; caseNumber: string }[] = []) {
  return {
    id: s.id,
    // What the lab calls it (editable), and where it came from: its batch and place in it.
    name: s.name,
    slideId: s.slideId,
    batchId: s.batchId,
    batch: { id: s.batchId, position: s.batchPosition, size: s.batchSize, createdAt: s.batchCreatedAt },
    thumbnailUrl: s.thumbnailPath && s.status !== 'quarantined' ? `/api/scans/${s.id}/thumbnail` : null,
    status: s.status,
    mode: s.mode,
    // The files a viewer opens: the instances extracted from a zip, else the uploaded parts.
    parts: s.instanceCount > 0 ? s.instanceCount : s.parts,
    claimedFormat: s.claimedFormat,
    format: s.format,
    width: s.width,
    height: s.height,
    levels: s.levels,
    mpp: s.mppX !== null && s.mppY !== null ? { x: s.mppX, y: s.mppY, source: s.mppSource } : null,
    originalFilename: s.originalFilename,
    totalBytes: s.totalBytes,
    error: s.error,
    // Slide k (>= 1) of a zip uploaded as another scan: that scan's id.
    sourceScanId: s.sourceScanId,
    uploadedBy: s.uploadedBy !== null ? { id: s.uploadedBy, username: s.uploadedByName } : null,
    quarantine: quarantineJson(s),
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
    cases,
    caseLink: caseLinkJson(s),
  };
}

/**
 * One byte range from a Range header, per RFC 9110: 'bytes=a-b', 'bytes=a-', 'bytes=-n'.
 * null = serve the whole file (no header, or several ranges, which we may ignore);
 * 'unsatisfiable' = 416.
 */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | null | 'unsatisfiable' {
  if (!header) return null;
  const m = /^bytes=\s*(\d*)\s*-\s*(\d*)\s*$/.exec(header.trim());
  if (!m) return header.includes(',') || !header.startsWith('bytes=') ? null : 'unsatisfiable';
  const [, a, b] = m;
  if (a === '' && b === '') return 'unsatisfiable';
  if (a === '') {
    const n = Number(b);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  if (start >= size) return 'unsatisfiable';
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (end < start) return 'unsatisfiable';
  return { start, end };
}

export function scanRoutes(app: FastifyInstance, d: RouteDeps): void {
  const load = async (labId: number, raw: unknown): Promise<ScanRow> => {
    const scan = await d.repos.scans.byId(labId, idParam(raw));
    if (!scan) throw notFound('scan not found');
    return scan;
  };

  // The worklist: one page, sorted and filtered on the server (see scans-query.ts for the parameters).
  app.get('/api/scans', async (req) => {
    const lab = currentLab(d.sessions.require(req));
    const f = listQuery(req.query);
    const { scans, total, exact } = await d.repos.scans.list(lab.id, f);
    const cases = await d.repos.scans.casesOf(lab.id, scans.map((s) => s.id));
    // totalExact false: at least `total` scans match (counting stops a fixed distance past the page).
    return { scans: scans.map((s) => scanJson(s, cases.get(s.id))), total, totalExact: exact, limit: f.limit, offset: f.offset, sort: f.sort, dir: f.dir };
  });

  // The worklist's filter choices: recent batches, uploaders, formats.
  app.get('/api/scans/filters', async (req) => {
    const lab = currentLab(d.sessions.require(req));
    return { batches: await d.repos.scans.batches(lab.id, queryInt(req.query, 'batches', 50, 1, 500)), ...(await d.repos.scans.facets(lab.id)) };
  });

  // The JPEG made at ingest from the stored (de-identified) file; never the label. Lab members only.
  app.get<{ Params: { id: string } }>('/api/scans/:id/thumbnail', async (req, reply) => {
    const lab = currentLab(d.sessions.require(req));
    const scan = await load(lab.id, req.params.id);
    if (!scan.thumbnailPath || scan.status === 'quarantined') throw notFound('this scan has no thumbnail');
    let bytes: Buffer;
    try {
      bytes = await d.storage.readAll(scan.thumbnailPath);
    } catch (e) {
      // An unreachable bucket is not a missing thumbnail: the error handler answers 503
      // STORAGE_UNAVAILABLE (with Retry-After) so the worklist tries again later.
      if (storageFailureOf(e) === 'unavailable') throw e;
      throw notFound('this scan has no thumbnail');
    }
    const etag = `"t${scan.id}-${bytes.length}-${Date.parse(scan.updatedAt) || 0}"`;
    reply.header('content-type', 'image/jpeg').header('cache-control', 'private, no-cache').header('etag', etag);
    if (req.headers['if-none-match'] === etag) return reply.code(304).send();
    return reply.send(bytes);
  });

  app.get<{ Params: { id: string } }>('/api/scans/:id', async (req) => {
    const lab = currentLab(d.sessions.require(req));
    const scan = await load(lab.id, req.params.id);
    const uploaded = await d.repos.scans.files(lab.id, scan.id);
    const instances = await d.repos.scans.instances(lab.id, scan.id);
    // `name`: a part's path inside a slide its driver opens by name (MIRAX), for the viewer's engine.
    const files = instances.length > 0
      ? instances.map((f) => ({ part: f.part, size: f.size, sha256: f.sha256, url: `/api/scans/${scan.id}/file?part=${f.part}` }))
      : uploaded.map((f) => ({ part: f.part, ...(f.name ? { name: f.name } : {}), size: f.size, sha256: f.sha256, url: `/api/scans/${scan.id}/file?part=${f.part}` }));
    // When the viewer's files were extracted (a zip, always a single uploaded part), the upload itself stays downloadable.
    const zip = instances.length > 0 ? uploaded[0] : undefined;
    const original = zip ? { original: { size: zip.size, sha256: zip.sha256, url: `/api/scans/${scan.id}/original` } } : {};
    // A quarantined scan offers no file links: they would only be refused.
    if (scan.status === 'quarantined') return { scan: { ...scanJson(scan, (await d.repos.scans.casesOf(lab.id, [scan.id])).get(scan.id)), files: [], derived: [] } };
    // The other slides of the same zip, when it held several.
    const derived = (await d.repos.scans.derived(lab.id, scan.id)).map((x) => ({ id: x.id, originalFilename: x.originalFilename, status: x.status }));
    return { scan: { ...scanJson(scan, (await d.repos.scans.casesOf(lab.id, [scan.id])).get(scan.id)), files, ...original, derived } };
  });

  app.patch<{ Params: { id: string } }>('/api/scans/:id', async (req) => {
    const lab = editableLab(d.sessions.require(req));
    const scan = await load(lab.id, req.params.id);
    const body = objectBody(req.body);
    // { name } renames the scan, { mpp } corrects its scale; either or both.
    if (body.name === undefined && body.mpp === undefined) throw badRequest('send a name or an mpp');
    const name = body.name === undefined ? undefined : stringField(body, 'name', { max: SCAN_NAME_MAX });
    const nameProblem = name === undefined ? null : validateScanName(name);
    if (nameProblem) throw badRequest(nameProblem);
    if (body.mpp !== undefined) {
      const m = body.mpp as { x?: unknown; y?: unknown } | null;
      const valid = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0 && v <= 1000;
      if (typeof m !== 'object' || m === null || !valid(m.x) || !valid(m.y)) throw badRequest('mpp must be {x, y} in micrometres per pixel (0 < value <= 1000)');
      await d.repos.scans.setUserMpp(lab.id, scan.id, m.x, m.y);
    }
    if (name !== undefined) await d.repos.scans.rename(lab.id, scan.id, name);
    return { scan: scanJson((await d.repos.scans.byId(lab.id, scan.id))!, (await d.repos.scans.casesOf(lab.id, [scan.id])).get(scan.id)) };
  });

  app.post<{ Params: { id: string } }>('/api/scans/:id/reprocess', async (req, reply) => {
    const lab = editableLab(d.sessions.require(req));
    const scan = await load(lab.id, req.params.id);
    // A quarantined scan may be tried again (ingest verifies de-identified bytes before anything
    // else, so a reprocess can only make it ready by passing verification), unless its bytes are gone.
    if (scan.status !== 'ready' && scan.status !== 'needs-mpp' && scan.status !== 'failed' && scan.status !== 'quarantined') throw conflict(`a scan that is ${scan.status} cannot be reprocessed`);
    if (scan.filesRemovedAt) throw conflict('the files of this scan were removed; upload the slide again');
    // { dryRun: true, mpp? }: what the scan would be with that MPP, nothing stored (Regions tab:
    // Reprocess shows it, Save commits). See ingest/preview.ts.
    const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
    if (body.dryRun === true) return reply.send({ preview: await dryRunReprocess(scan, body.mpp) });
    await d.repos.scans.setStatus(lab.id, scan.id, 'processing');
    await d.ingest.enqueue(lab.id, scan.id);
    return reply.code(202).send({ scan: scanJson((await d.repos.scans.byId(lab.id, scan.id))!) });
  });

  async function dryRunReprocess(scan: ScanRow, mpp: unknown) {
    if (scan.status !== 'ready' && scan.status !== 'needs-mpp') throw conflict(`a scan that is ${scan.status} can only be reprocessed for real, without a preview`);
    const m = mpp as { x?: unknown; y?: unknown } | undefined;
    if (m !== undefined && (typeof m !== 'object' || m === null || !validMpp(m.x) || !validMpp(m.y))) throw badRequest('mpp must be {x, y} in micrometres per pixel (0 < value <= 1000)');
    return previewReprocess(d.repos, d.storage, scan, m as { x: number; y: number } | undefined);
  }

  /** One stored file, whole or as one byte range (RFC 9110), with an ETag from its hash. */
  async function sendFile(req: FastifyRequest, reply: FastifyReply, file: { path: string; sha256: string }): Promise<FastifyReply> {
    const size = await d.storage.size(file.path);
    if (size === undefined) throw notFound('the stored file is missing');
    const etag = `"${file.sha256.slice(0, 32)}"`;
    reply.header('accept-ranges', 'bytes').header('etag', etag).header('cache-control', 'private, no-cache').header('content-type', 'application/octet-stream');
    const ifRange = req.headers['if-range'];
    // An empty file (a MIRAX .mrxs may be one) is sent whole, as RFC 9110 allows: no range of it is
    // satisfiable, and a 416 would make a reader probing its size with bytes=0-0 fail.
    const range = size > 0 && (ifRange === undefined || ifRange === etag) ? parseRange(req.headers.range, size) : null;
    if (range === 'unsatisfiable') {
      reply.header('content-range', `bytes */${size}`);
      throw new ApiError(416, 'RANGE_NOT_SATISFIABLE', 'requested range is outside the file');
    }
    if (range === null) reply.header('content-length', String(size));
    else reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${size}`).header('content-length', String(range.end - range.start + 1));
    // HEAD: the headers only, nothing read. Fastify's HEAD route drains a stream payload (on S3: a
    // GET of the whole object) and answers an empty one with Content-Length 0: an empty stream keeps ours.
    if (req.method === 'HEAD') return reply.send(Readable.from([]));
    return reply.send(await d.storage.stream(file.path, range ?? undefined));
  }

  // The viewer's files (engine over an HTTP Range source): extracted instances of a zip, else the uploaded parts.
  app.get<{ Params: { id: string } }>('/api/scans/:id/file', async (req, reply) => {
    const lab = currentLab(d.sessions.require(req));
    const scan = await load(lab.id, req.params.id);
    refuseQuarantined(scan);
    const part = queryInt(req.query, 'part', 0, 0, Number.MAX_SAFE_INTEGER);
    const instances = await d.repos.scans.instances(lab.id, scan.id);
    const file = (instances.length > 0 ? instances : await d.repos.scans.files(lab.id, scan.id)).find((f) => f.part === part);
    if (!file) throw notFound('part not found');
    return sendFile(req, reply, file);
  });

  // The uploaded bytes as received (for a zip: the zip), e.g. to download the original.
  app.get<{ Params: { id: string } }>('/api/scans/:id/original', async (req, reply) => {
    const lab = currentLab(d.sessions.require(req));
    const scan = await load(lab.id, req.params.id);
    refuseQuarantined(scan);
    const part = queryInt(req.query, 'part', 0, 0, Number.MAX_SAFE_INTEGER);
    const file = (await d.repos.scans.files(lab.id, scan.id)).find((f) => f.part === part);
    if (!file) throw notFound('part not found');
    return sendFile(req, reply, file);
  });

  // A lab admin removes the bytes of a quarantined scan (they may hold what de-identification
  // missed). The scan row stays, quarantined, with who removed them and when; the stored parts'
  // sizes and hashes stay as the record of what was removed. Idempotent.
  app.delete<{ Params: { id: string } }>('/api/scans/:id/files', async (req) => {
    const auth = d.sessions.require(req);
    const lab = currentLab(auth);
    const scan = await load(lab.id, req.params.id);
    if (lab.role !== 'lab-admin') throw forbidden('only a lab admin may remove the files of a scan');
    if (scan.status !== 'quarantined') throw conflict('only the files of a quarantined scan can be removed here');
    if (!scan.filesRemovedAt) {
      // Recorded first: from here on a reprocess is refused, so nothing reads the bytes while they go.
      const note = `${scan.error ?? 'failed verification on the server'} — the files were removed by a lab admin.`;
      if (!await d.repos.scans.markFilesRemoved(lab.id, scan.id, auth.user.id, note)) throw conflict('the scan changed meanwhile; reload it');
      // Ids only: the scan's file name may be identifying.
      d.log.info({ labId: lab.id, scanId: scan.id, userId: auth.user.id }, 'quarantined scan files removed');
    }
    // Every time, not only the first: a removal cut short (crash, I/O error) completes on a retry.
    await d.storage.deleteScan(lab.id, scan.id);
    for (const u of await d.repos.uploads.forSlide(lab.id, scan.slideId)) await d.storage.removeUpload(u.id);
    return { scan: scanJson((await d.repos.scans.byId(lab.id, scan.id))!, (await d.repos.scans.casesOf(lab.id, [scan.id])).get(scan.id)) };
  });
}
