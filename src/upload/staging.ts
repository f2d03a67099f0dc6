import { SlideError } from '../shared/errors.ts';

/**
 * The staged (de-identified) copies live in OPFS under `wsi-staging/u<userId>/<batchId>/<slideId>/`:
 * one folder per user, so on a shared lab PC one user's copies are never listed, read or counted
 * by another's session. The worker writes them with sync access handles; the page only reads them
 * for upload or download and deletes them once the server confirmed the upload, so the disk fills
 * with at most the budget.
 */
export const STAGING_ROOT = 'wsi-staging';

/** What locates a batch's staging folder: its id and the user it belongs to. */
export interface BatchOwner {
  id: string;
  userId: number;
}

export function userStagingDir(userId: number): string {
  return `${STAGING_ROOT}/u${userId}`;
}

export function batchStagingDir(batch: BatchOwner): string {
  return `${userStagingDir(batch.userId)}/${batch.id}`;
}

export function stagingDir(batch: BatchOwner, slideId: string): string {
  return `${batchStagingDir(batch)}/${slideId}`;
}

async function dirOf(path: string[], create: boolean): Promise<FileSystemDirectoryHandle> {
  let dir = await navigator.storage.getDirectory();
  for (const name of path) dir = await dir.getDirectoryHandle(name, { create });
  return dir;
}

/** The staged file as a disk-backed File (uploads and downloads stream from it). */
export async function stagedFile(opfsPath: string): Promise<File> {
  const parts = opfsPath.split('/');
  const name = parts.pop()!;
  try {
    return await (await (await dirOf(parts, false)).getFileHandle(name)).getFile();
  } catch (e) {
    throw new SlideError('NOT_FOUND', `the de-identified copy ${name} is no longer on this computer — de-identify it again`, { cause: e });
  }
}

/** Remove a staged file; missing is fine (already removed by an earlier run). */
export async function deleteStaged(opfsPath: string): Promise<void> {
  const parts = opfsPath.split('/');
  const name = parts.pop()!;
  try {
    await (await dirOf(parts, false)).removeEntry(name);
  } catch (e) {
    if (!(e instanceof DOMException && e.name === 'NotFoundError')) throw e;
  }
}

/** Remove a whole directory below the OPFS root (a slide's or a batch's staging folder). */
export async function deleteStagedDir(path: string): Promise<void> {
  const parts = path.split('/');
  const name = parts.pop()!;
  try {
    await (await dirOf(parts, false)).removeEntry(name, { recursive: true });
  } catch (e) {
    if (!(e instanceof DOMException && e.name === 'NotFoundError')) throw e;
  }
}

/**
 * Remove staged folders no batch owns any more: at the top, every entry that is not a user's
 * folder (copies of batches made before folders were per user: their records were discarded, see
 * idb.ts v4); inside this user's folder, batches not in `keep` (discarded while a removal failed,
 * or the tab closed half-way). Other users' folders are left alone: their batches are theirs.
 */
export async function sweepStaging(userId: number, keep: ReadonlySet<string>): Promise<void> {
  let root: FileSystemDirectoryHandle;
  try {
    root = await dirOf([STAGING_ROOT], false);
  } catch {
    return; // nothing staged yet
  }
  const mine = `u${userId}`;
  // The DOM lib here has no async iteration of directories (DOM.AsyncIterable is not in it).
  const children = (d: FileSystemDirectoryHandle) => (d as IterableDir).values();
  // Names first, removals after: a directory is not changed while it is being listed.
  const remove = async (dir: FileSystemDirectoryHandle, gone: (h: FileSystemHandle) => boolean) => {
    const names: string[] = [];
    for await (const h of children(dir)) if (gone(h)) names.push(h.name);
    for (const name of names) await dir.removeEntry(name, { recursive: true }).catch(() => undefined);
  };
  await remove(root, (h) => !/^u\d+$/.test(h.name));
  const own = await root.getDirectoryHandle(mine).catch(() => undefined);
  if (own) await remove(own, (h) => !keep.has(h.name));
}

type IterableDir = FileSystemDirectoryHandle & { values(): AsyncIterable<FileSystemHandle> };

export interface DiskEstimate {
  /** Bytes the browser says this origin may still write. */
  free: number;
  quota: number;
  usage: number;
}

export async function diskEstimate(): Promise<DiskEstimate> {
  const e = await navigator.storage.estimate();
  const quota = e.quota ?? 0;
  const usage = e.usage ?? 0;
  return { quota, usage, free: Math.max(0, quota - usage) };
}

/**
 * How many bytes of staged copies may exist at once. The estimate is not a hard cap (STACK-NOTES:
 * 11 GiB went through a 10 GiB quota), but it is the only signal before a write fails, so keep a
 * reserve below it; `cap` bounds it further so staging never runs far ahead of the network.
 */
export function stagingBudget(estimate: DiskEstimate, stagedNow: number, cap: number): number {
  const reserve = Math.min(512 * 1024 * 1024, estimate.quota * 0.05);
  return Math.max(0, Math.min(cap, stagedNow + estimate.free - reserve));
}
