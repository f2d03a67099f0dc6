import { openDB, type DBSchema, type IDBPDatabase } from 'idb';

/**
 * The app's one IndexedDB database. Upgrades are versioned: add a `case` for each new version,
 * never edit an old one (installed PWAs upgrade from any earlier version).
 */
export interface WsiDb extends DBSchema {
  /** tus upload URLs, keyed by tus-js-client's url storage key; looked up by our fingerprint. */
  'tus-urls': { key: string; value: StoredUpload; indexes: { fingerprint: string } };
  /** Small settings (e.g. 'show-thumbnails'). */
  settings: { key: string; value: unknown };
  /** Persisted batches of the import wizard, keyed by batch id. */
  batches: { key: string; value: { id: string; updatedAt: number; [k: string]: unknown } };
  /**
   * The files of a batch, one record per selection (v2). Kept apart from 'batches' because a File
   * put into IndexedDB is snapshotted by the browser: writing it once per selection, not on every
   * progress save, keeps saves cheap.
   */
  'batch-sources': { key: string; value: { id: string; batchId: string; [k: string]: unknown }; indexes: { batchId: string } };
}

export interface StoredUpload {
  key: string;
  fingerprint: string;
  uploadUrl: string;
  size: number;
  metadata: Record<string, string>;
  creationTime: string;
  urlStorageKey?: string;
}

export const DB_NAME = 'wsi-bulk-import';
const DB_VERSION = 2;
let dbPromise: Promise<IDBPDatabase<WsiDb>> | undefined;

export function db(): Promise<IDBPDatabase<WsiDb>> {
  dbPromise ??= openDB<WsiDb>(DB_NAME, DB_VERSION, {
    upgrade(database, oldVersion) {
      switch (oldVersion) {
        case 0: {
          const urls = database.createObjectStore('tus-urls', { keyPath: 'key' });
          urls.createIndex('fingerprint', 'fingerprint');
          database.createObjectStore('settings');
          database.createObjectStore('batches', { keyPath: 'id' });
        }
      }
      // Versions after 1 as `if`s: noFallthroughCasesInSwitch forbids case 0 falling into case 1.
      if (oldVersion < 2) {
        const sources = database.createObjectStore('batch-sources', { keyPath: 'id' });
        sources.createIndex('batchId', 'batchId');
      }
    },
  });
  return dbPromise;
}

export async function getSetting<T>(key: string, fallback: T): Promise<T> {
  const v = await (await db()).get('settings', key);
  return v === undefined ? fallback : (v as T);
}

export async function setSetting(key: string, value: unknown): Promise<void> {
  await (await db()).put('settings', value, key);
}
