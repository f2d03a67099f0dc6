import type { ServerConfig } from './config.ts';
import { formatBytes } from '../shared/format-bytes.ts';
import type { Repos } from './db/repos/index.ts';
import { ApiError } from './http/api-error.ts';
import { freeBytes } from './http/storage-errors.ts';

/** A lab's storage as lab admins see it (GET /api/labs/:id/storage). */
export interface LabStorage {
  /** Bytes the lab may hold; null = no limit. */
  quotaBytes: number | null;
  /** Whether the quota is the lab's own or the server's default (WSI_LAB_QUOTA_BYTES). */
  quotaSource: 'lab' | 'default';
  storedBytes: number;
  inFlightBytes: number;
  /** What a new upload may still announce; null = no limit. */
  availableBytes: number | null;
}

export async function labStorage(repos: Repos, config: ServerConfig, labId: number): Promise<LabStorage> {
  const own = await repos.quotas.quotaOf(labId);
  const quota = own ?? config.labQuotaBytes;
  const { storedBytes, inFlightBytes } = await repos.quotas.usage(labId);
  const quotaBytes = quota === 0 ? null : quota;
  return {
    quotaBytes,
    quotaSource: own === undefined ? 'default' : 'lab',
    storedBytes,
    inFlightBytes,
    availableBytes: quotaBytes === null ? null : Math.max(0, quotaBytes - storedBytes - inFlightBytes),
  };
}

/**
 * Refuse (413) an upload announcing more than the lab's remaining quota, counting stored scans and
 * the full announced size of uploads still in progress (each will need its bytes). Runs in the
 * transaction that inserts the upload's row, with the lab locked, so two creations cannot both
 * take the last space.
 */
export async function checkLabQuota(repos: Repos, config: ServerConfig, labId: number, size: number): Promise<void> {
  // PostgreSQL runs creations in parallel: the lab's row is held until the caller's transaction ends.
  await repos.labs.lock(labId);
  const s = await labStorage(repos, config, labId);
  if (s.availableBytes === null || size <= s.availableBytes) return;
  const held = s.inFlightBytes > 0 ? ` (${formatBytes(s.storedBytes)} in stored scans, ${formatBytes(s.inFlightBytes)} held by uploads in progress)` : '';
  throw new ApiError(
    413,
    'QUOTA_EXCEEDED',
    `this file (${formatBytes(size)}) does not fit in the lab's storage quota: ${formatBytes(s.availableBytes)} of ${formatBytes(s.quotaBytes!)} left${held}. A lab admin can remove scans or raise the quota.`,
  );
}

/**
 * Refuse (507) an upload the server's disk cannot hold right now, before any byte is sent: the
 * client waits and tries again later, as for a full disk during the upload.
 */
export function checkDiskSpace(dataDir: string, size: number): void {
  const free = freeBytes(dataDir);
  if (free === undefined || size <= free) return;
  throw new ApiError(507, 'INSUFFICIENT_STORAGE', `the server does not have enough storage space for this file right now (${formatBytes(size)} needed, ${formatBytes(free)} free); try again later (an administrator needs to free space)`);
}
