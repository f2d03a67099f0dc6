import type { FastifyInstance } from 'fastify';
import { statfs } from 'node:fs/promises';
import { administeredLab } from '../auth/session.ts';
import { badRequest } from '../http/api-error.ts';
import { labStorage } from '../storage-quota.ts';
import { idParam, objectBody, type RouteDeps } from './deps.ts';

/**
 * A lab's storage for its lab admins: quota, what stored scans and uploads in progress take, and
 * the server's free disk space (the other limit an upload can hit). PUT sets the lab's own quota.
 */
export function storageRoutes(app: FastifyInstance, d: RouteDeps): void {
  const body = async (labId: number) => {
    // A bucket has no free-space figure: disk is null on S3 storage (lab quotas still apply).
    const disk = !d.storage.localDisk ? null : await statfs(d.storage.dataDir).then(
      (s) => ({ freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize }),
      () => null,
    );
    return { labId, ...(await labStorage(d.repos, d.config, labId)), defaultQuotaBytes: d.config.labQuotaBytes === 0 ? null : d.config.labQuotaBytes, disk };
  };

  app.get<{ Params: { id: string } }>('/api/labs/:id/storage', async (req) => {
    const lab = await administeredLab(d.sessions.require(req), idParam(req.params.id), d.repos.labs);
    return body(lab.id);
  });

  // {quotaBytes: n} sets the lab's own quota (0 = no limit); {quotaBytes: null} goes back to the
  // server's default. Lowering it below what is stored removes nothing: new uploads are refused.
  app.put<{ Params: { id: string } }>('/api/labs/:id/storage', async (req) => {
    const auth = d.sessions.require(req);
    const lab = await administeredLab(auth, idParam(req.params.id), d.repos.labs);
    const { quotaBytes } = objectBody(req.body);
    if (quotaBytes !== null && (typeof quotaBytes !== 'number' || !Number.isSafeInteger(quotaBytes) || quotaBytes < 0)) {
      throw badRequest('quotaBytes must be a whole number of bytes (0 = no limit), or null for the server default');
    }
    await d.repos.quotas.setQuota(lab.id, quotaBytes);
    d.log.info({ labId: lab.id, userId: auth.user.id, quotaBytes }, 'lab storage quota changed');
    return body(lab.id);
  });
}
