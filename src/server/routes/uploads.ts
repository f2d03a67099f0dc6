import type { FastifyInstance } from 'fastify';
import { currentLab } from '../auth/session.ts';
import { notFound } from '../http/api-error.ts';
import type { RouteDeps } from './deps.ts';

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * What the server has of one slide, for the client after a reload: which parts are stored, which
 * were corrupt (send again), and which of the caller's own uploads can be resumed (and from where).
 */
export function uploadRoutes(app: FastifyInstance, d: RouteDeps): void {
  app.get<{ Params: { slideId: string } }>('/api/uploads/slide/:slideId', async (req) => {
    const auth = d.sessions.require(req);
    const lab = currentLab(auth);
    if (!uuid.test(req.params.slideId)) throw notFound('slide not found');
    const slideId = req.params.slideId.toLowerCase();
    const scan = await d.repos.scans.bySlideId(lab.id, slideId);
    const uploads = await d.repos.uploads.forSlide(lab.id, slideId);
    if (!scan && uploads.length === 0) return { slideId, scan: null, scanId: null, parts: [] };
    const stored = new Map((scan ? await d.repos.scans.files(lab.id, scan.id) : []).map((f) => [f.part, f]));
    const partCount = scan?.parts ?? uploads[0].parts;
    const parts = [];
    for (let part = 0; part < partCount; part++) {
      const mine = uploads.filter((u) => u.part === part);
      const file = stored.get(part);
      const latest = mine.at(-1);
      const status = file ? 'complete' : (latest?.status === 'corrupt' ? 'corrupt' : latest?.status === 'uploading' ? 'uploading' : 'missing');
      const list = [];
      for (const u of mine) {
        // Only the creator may resume an upload; others see that one exists, not where.
        const own = u.userId === auth.user.id;
        let offset: number | null = null;
        if (own && u.status === 'uploading') offset = (await d.storage.uploadBytes(u.id)) ?? null;
        list.push({ ...(own ? { id: u.id, url: `/files/${u.id}` } : {}), status: u.status, size: u.size, sha256: u.sha256, offset, createdAt: u.createdAt });
      }
      parts.push({ part, status, ...(file ? { sha256: file.sha256, size: file.size, scanId: scan!.id } : {}), uploads: list });
    }
    // scanId is repeated at the top and on stored parts for clients that only look there.
    return { slideId, scan: scan ? { id: scan.id, status: scan.status } : null, scanId: scan?.id ?? null, parts };
  });
}
