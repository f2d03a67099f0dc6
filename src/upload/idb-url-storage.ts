import type { PreviousUpload, UrlStorage } from 'tus-js-client';
import { db, type StoredUpload } from './idb.ts';

/**
 * tus-js-client URL storage in IndexedDB instead of localStorage: it survives reloads like
 * localStorage, but is also reachable from workers and holds more than 5 MB of entries.
 */
export class IdbUrlStorage implements UrlStorage {
  async findAllUploads(): Promise<PreviousUpload[]> {
    return (await (await db()).getAll('tus-urls')).map(toPrevious);
  }

  async findUploadsByFingerprint(fingerprint: string): Promise<PreviousUpload[]> {
    return (await (await db()).getAllFromIndex('tus-urls', 'fingerprint', fingerprint)).map(toPrevious);
  }

  async removeUpload(urlStorageKey: string): Promise<void> {
    await (await db()).delete('tus-urls', urlStorageKey);
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
    };
    await (await db()).put('tus-urls', value);
    return key;
  }

  /** Forget every stored URL of a fingerprint (after the server confirmed the part). */
  async removeByFingerprint(fingerprint: string): Promise<void> {
    const d = await db();
    for (const u of await d.getAllFromIndex('tus-urls', 'fingerprint', fingerprint)) await d.delete('tus-urls', u.key);
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
