import type { PreviousUpload, UrlStorage } from 'tus-js-client';
import { db, type StoredUpload } from './idb.ts';

/**
 * tus-js-client URL storage in IndexedDB instead of localStorage: it survives reloads like
 * localStorage, but is also reachable from workers and holds more than 5 MB of entries.
 *
 * Scoped to one signed-in user: on a shared lab PC the stored URLs (and their metadata, which
 * holds the name sent to the server) of one user are never found, resumed or removed by another.
 */
export class IdbUrlStorage implements UrlStorage {
  constructor(readonly userId: number) {}

  async findAllUploads(): Promise<PreviousUpload[]> {
    return (await this.mine()).map(toPrevious);
  }

  async findUploadsByFingerprint(fingerprint: string): Promise<PreviousUpload[]> {
    return (await (await db()).getAllFromIndex('tus-urls', 'fingerprint', fingerprint)).filter((u) => u.userId === this.userId).map(toPrevious);
  }

  async removeUpload(urlStorageKey: string): Promise<void> {
    const tx = (await db()).transaction('tus-urls', 'readwrite');
    const u = await tx.store.get(urlStorageKey);
    if (u?.userId === this.userId) await tx.store.delete(urlStorageKey);
    await tx.done;
  }

  async addUpload(fingerprint: string, upload: PreviousUpload): Promise<string> {
    const key = `tus::${fingerprint}::${crypto.randomUUID()}`;
    const value: StoredUpload = {
      key,
      fingerprint,
      uploadUrl: upload.uploadUrl ?? '',
      size: upload.size ?? 0,
      metadata: upload.metadata ?? {},
      creationTime: upload.creationTime,
      userId: this.userId,
    };
    await (await db()).put('tus-urls', value);
    return key;
  }

  /** Forget every stored URL of a fingerprint (after the server confirmed the part). */
  async removeByFingerprint(fingerprint: string): Promise<void> {
    const tx = (await db()).transaction('tus-urls', 'readwrite');
    for (const u of await tx.store.index('fingerprint').getAll(fingerprint)) if (u.userId === this.userId) await tx.store.delete(u.key);
    await tx.done;
  }

  /** This user's stored uploads of one batch (by the batchId in their Upload-Metadata). */
  async ofBatch(batchId: string): Promise<StoredUpload[]> {
    return (await this.mine()).filter((u) => u.metadata.batchId === batchId);
  }

  /** Forget this user's stored URLs of a batch (it was discarded or finished). */
  async removeBatch(batchId: string): Promise<void> {
    const tx = (await db()).transaction('tus-urls', 'readwrite');
    for (const u of await tx.store.index('userId').getAll(this.userId)) if (u.metadata.batchId === batchId) await tx.store.delete(u.key);
    await tx.done;
  }

  private async mine(): Promise<StoredUpload[]> {
    return (await db()).getAllFromIndex('tus-urls', 'userId', this.userId);
  }
}

function toPrevious(v: StoredUpload): PreviousUpload {
  return {
    size: v.size,
    metadata: v.metadata,
    creationTime: v.creationTime,
    uploadUrl: v.uploadUrl,
    urlStorageKey: v.key,
    parallelUploadUrls: null,
  };
}
