import { readdir, stat } from 'node:fs/promises';
import type { Repos } from '../db/repos/index.ts';
import type { Storage } from '../storage.ts';
import type { UploadStore } from '../storage/tus-datastore.ts';

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
 * Remove what the tus store keeps (`<id>` bytes and `<id>.json`, which holds the Upload-Metadata
 * and so the client's file name; in a bucket `uploads/<id>`, `<id>.info` and `<id>.part`) of every
 * upload that no longer needs it:
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
export async function cleanUpUploads(repos: Repos, storage: Storage, expiredBefore: Date, uploadStore?: UploadStore, now = Date.now()): Promise<CleanupResult> {
  const result: CleanupResult = { expired: 0, finished: 0, orphans: 0 };
  // S3: S3Store's own expiry first: it aborts multipart uploads past the expiry period, also ones
  // whose `.info` record is gone (which the listing below cannot name).
  if (!storage.localDisk) await uploadStore?.deleteExpired();
  const stored = storage.localDisk ? await localUploads(storage) : await bucketUploads(storage);
  const cutoff = expiredBefore.toISOString();
  for (const [id, newestChange] of stored) {
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
      if (now - (await newestChange()) < orphanGraceMs) continue;
      await storage.removeUpload(id);
      result.orphans++;
    }
  }
  // Rows of unfinished uploads whose files were already gone: no longer in progress (nor holding quota).
  result.expired += await repos.uploads.expireUnfinishedBefore(cutoff);
  return result;
}

const idPattern = /^[A-Za-z0-9_-]{1,128}$/;

/** Upload ids the file store holds (`<id>`, `<id>.json`), each with when its files last changed. */
async function localUploads(storage: Storage): Promise<Map<string, () => Promise<number>>> {
  const names = await readdir(storage.uploadsDir).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [] as string[];
    throw e;
  });
  const ids = new Set(names.map((n) => n.replace(/\.json$/, '')).filter((id) => idPattern.test(id)));
  const newest = (id: string) => async () => Math.max(...(await Promise.all([id, `${id}.json`].map((n) => stat(storage.uploadPath(n)).then((s) => s.mtimeMs, () => 0)))));
  return new Map([...ids].map((id) => [id, newest(id)]));
}

/** Upload ids with objects in the bucket (`uploads/<id>`, `.info`, `.part`), each with its newest change. */
async function bucketUploads(storage: Storage): Promise<Map<string, () => Promise<number>>> {
  const newest = new Map<string, number>();
  for await (const o of storage.listUploads()) {
    const id = o.key.slice('uploads/'.length).replace(/\.(info|part)$/, '');
    if (idPattern.test(id)) newest.set(id, Math.max(newest.get(id) ?? 0, o.lastModified));
  }
  return new Map([...newest].map(([id, t]) => [id, async () => t]));
}
