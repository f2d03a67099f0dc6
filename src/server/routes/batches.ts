import type { FastifyInstance } from 'fastify';
import { currentLab, editableLab } from '../auth/session.ts';
import { noScans, type BatchClient, type BatchCounts, type BatchRow } from '../db/repos/batches.ts';
import type { ScanRow } from '../db/repos/scans.ts';
import { ApiError, badRequest, notFound } from '../http/api-error.ts';
import { objectBody, type RouteDeps } from './deps.ts';
import { caseLinkJson } from './scans.ts';

const batchIdPattern = /^[A-Za-z0-9_-]{1,64}$/;
const maxSlides = 100000;
/** How many batches GET /api/batches lists. */
const recentBatches = 100;

function batchId(raw: unknown): string {
  if (typeof raw !== 'string' || !batchIdPattern.test(raw)) throw notFound('batch not found');
  return raw;
}

/**
 * Why a scan of the batch needs a look, in words that hold no value from the slide: the server's
 * verification problems (words only), or a fixed sentence for a failure (an engine message may
 * name the uploaded file, which this record leaves out).
 */
function problems(s: ScanRow): string[] {
  if (s.status === 'quarantined') return s.verifyProblemsJson ? (JSON.parse(s.verifyProblemsJson) as string[]) : ['It failed verification on the server.'];
  if (s.status === 'failed') return ['The server could not read this slide: see the scan for details.'];
  if (s.status === 'corrupt') return ['A part arrived damaged and has not been sent again.'];
  if (s.status === 'needs-mpp') return ['Its scale (MPP) is unknown.'];
  return [];
}

const headJson = (b: BatchRow, counts: BatchCounts, id = b.id) => ({
  id,
  client: b.client,
  createdAt: b.createdAt,
  finishedAt: b.finishedAt,
  createdBy: b.createdBy !== null ? { id: b.createdBy, username: b.createdByName } : null,
  slides: b.slides,
  counts,
});

/**
 * The server's own record of an upload batch (issue 14, contract C3): PHI-free — no original file
 * names, no barcodes; the lab's full record (with those) is written on the PC and never uploaded.
 */
export function batchRoutes(app: FastifyInstance, d: RouteDeps): void {
  app.get('/api/batches', async (req) => {
    const lab = currentLab(d.sessions.require(req));
    const rows = await d.repos.batches.recent(lab.id, recentBatches);
    const counts = await d.repos.batches.counts(lab.id, rows.map((b) => b.id));
    return { batches: rows.map((b) => headJson(b, counts.get(b.id) ?? noScans)) };
  });

  app.get<{ Params: { id: string } }>('/api/batches/:id', async (req) => {
    const lab = currentLab(d.sessions.require(req));
    const batch = await d.repos.batches.byId(lab.id, batchId(req.params.id));
    if (!batch) throw notFound('batch not found');
    return { batch: await batchJson(lab.id, batch) };
  });

  // What the client says about its batch: which client, how many slides, whether it is over.
  app.put<{ Params: { id: string } }>('/api/batches/:id', async (req) => {
    const auth = d.sessions.require(req);
    const lab = editableLab(auth);
    if (!lab.features.includes('bulk-import')) throw new ApiError(403, 'FEATURE_DISABLED', 'bulk import is not enabled for this lab');
    const id = batchId(req.params.id);
    const body = objectBody(req.body);
    if (body.client !== 'web' && body.client !== 'cli') throw badRequest('client must be web or cli');
    const slides = body.slides;
    if (typeof slides !== 'number' || !Number.isSafeInteger(slides) || slides < 0 || slides > maxSlides) throw badRequest(`slides must be a whole number from 0 to ${maxSlides}`);
    if (body.finished !== undefined && typeof body.finished !== 'boolean') throw badRequest('finished must be true or false');
    const row = await d.repos.batches.record(lab.id, id, { client: body.client as BatchClient, slides, finished: body.finished === true }, auth.user.id);
    return { batch: await batchJson(lab.id, row) };
  });

  async function batchJson(labId: number, b: BatchRow) {
    const scans = await d.repos.scans.inBatch(labId, b.id);
    const cases = await d.repos.scans.casesOf(labId, scans.map((s) => s.id));
    const counts = (await d.repos.batches.counts(labId, [b.id])).get(b.id) ?? noScans;
    return {
      ...headJson(b, counts),
      scans: await Promise.all(scans.map(async (s) => {
        // What was sent: the uploaded parts; a slide derived from a zip has only its extracted files.
        const files = s.sourceScanId === null ? await d.repos.scans.files(labId, s.id) : await d.repos.scans.instances(labId, s.id);
        return {
          id: s.id,
          slideId: s.slideId,
          name: s.name,
          format: s.format ?? s.claimedFormat,
          mode: s.mode,
          status: s.status,
          width: s.width,
          height: s.height,
          levels: s.levels,
          mpp: s.mppX !== null && s.mppY !== null ? { x: s.mppX, y: s.mppY, source: s.mppSource } : null,
          parts: files.map((f) => ({ part: f.part, size: f.size, sha256: f.sha256 })),
          problems: problems(s),
          caseLink: caseLinkJson(s),
          cases: cases.get(s.id) ?? [],
        };
      })),
    };
  }
}
