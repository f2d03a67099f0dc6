import { IdbUrlStorage } from './idb-url-storage.ts';

/**
 * Delete on the server (tus termination) the unfinished uploads a batch left, by the URLs stored
 * for them, and forget those URLs. For a batch discarded while no uploader runs for it (e.g. at
 * sign-out from another page): the server would keep the partial files, and their metadata, until
 * they expire. Best effort: a URL the server no longer knows, or an unreachable server, is not an
 * error — the server's expiry removes what is left.
 */
export async function terminateStoredUploads(userId: number, batchId: string): Promise<void> {
  const storage = new IdbUrlStorage(userId);
  for (const u of await storage.ofBatch(batchId)) {
    // Only our own server's uploads: the session cookie goes nowhere else.
    const url = u.uploadUrl ? new URL(u.uploadUrl, location.href) : undefined;
    if (!url || url.origin !== location.origin) continue;
    await fetch(url, { method: 'DELETE', headers: { 'Tus-Resumable': '1.0.0' }, credentials: 'same-origin' }).catch(() => undefined);
  }
  await storage.removeBatch(batchId);
}
