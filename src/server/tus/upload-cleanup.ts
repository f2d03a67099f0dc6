import { readdir, stat } from 'node:fs/promises';
import type { Repos } from '../db/repos/index.ts';
import type { Storage } from '../storage.ts';

export interface CleanupResult {
  /** Unfinished uploads past their expiry whose bytes and record were removed. */
  expired: number;
  /** Finished uploads (stored, duplicate, corrupt, cancelled) whose leftovers were removed. */
  finished: number;
  /** Files no upload row explains (a crash between steps, a restored database). */
  orphans: number;
}

/** Files without any upload row are left alone this long: the row may be a moment from being written. */
const orphanGraceMs = 60 * 60 * 1000;

/**
 * Remove what the tus file store keeps (`<id>` bytes and `<id>.json`, which holds the
 * Upload-Metadata and so the client's file name) of every upload that no longer needs it:
 *
 * - unfinished uploads created before `expiredBefore` (marked terminated);
 * - finished uploads: a stored part's bytes are hard-linked into its scan, everything else is
 *   useless — normally removed as soon as the upload finished, here after a crash or failure;
 * - files of no known upload, older than an hour.
 *
 * @tus/file-store's own expiration is not used: it only sees ids that have both files (an orphan
 * `.json` stays for ever), trusts the `.json` offset (always 0, so finished uploads count as
 * unfinished) and gives up the whole run on the first file it cannot delete.
 */
export async function cleanUpUploads(repos: Repos, storage: Storage, expiredBefore: Date, now = Date.now()): Promise<CleanupResult> {
  const result: CleanupResult = { expired: 0, finished: 0, orphans: 0 };
  const names = await readdir(storage.uploadsDir).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [] as string[];
    throw e;
  });
  const ids = new Set(names.map((n) => n.replace(/\.json$/, '')).filter((id) => /^[A-Za-z0-9_-]{1,128}$/.test(id)));
  const cutoff = expiredBefore.toISOString();
  for (const id of ids) {
    const row = await repos.uploads.byIdForAccessCheck(id);
    if (row?.status === 'uploading') {
      if (row.createdAt >= cutoff) continue;
      await storage.removeUpload(id);
      await repos.uploads.markTerminated(row.labId, id);
      result.expired++;
    } else if (row) {
      await storage.removeUpload(id);
      result.finished++;
    } else {
      const newest = Math.max(...(await Promise.all([id, `${id}.json`].map((n) => stat(storage.uploadPath(n)).then((s) => s.mtimeMs, () => 0)))));
      if (now - newest < orphanGraceMs) continue;
      await storage.removeUpload(id);
      result.orphans++;
    }
  }
  // Rows of unfinished uploads whose files were already gone: no longer in progress (nor holding quota).
  result.expired += await repos.uploads.expireUnfinishedBefore(cutoff);
  return result;
}
