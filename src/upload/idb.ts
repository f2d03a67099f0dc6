import { openDB, type DBSchema, type IDBPDatabase, type IDBPObjectStore, type StoreNames } from 'idb';

/**
 * The app's one IndexedDB database. It lives in the upload layer because the upload queue keeps
 * its tus URLs here and dependencies point down (app → upload → engine → shared); the app reaches
 * it through src/app/state/db.ts. Upgrades are versioned: add a `case` for each new version,
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
   * The selections of a batch, one record per pick (v2): file/directory handles or the names, sizes
   * and dates of <input> picks (see SourceRecord). Never File objects: Chromium copies a stored
   * File's bytes into the database (v2 did; v3 drops those copies).
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
const DB_VERSION = 3;
let dbPromise: Promise<IDBPDatabase<WsiDb>> | undefined;

export function db(): Promise<IDBPDatabase<WsiDb>> {
  dbPromise ??= openDB<WsiDb>(DB_NAME, DB_VERSION, {
    upgrade(database, oldVersion, _newVersion, transaction) {
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
      if (oldVersion === 2) dropStoredFileCopies(transaction.objectStore('batch-sources'));
    },
  });
  return dbPromise;
}

/**
 * v2 stored picked Files in 'batch-sources' (a full copy of every slide on disk). Keep only what
 * identifies them, so the user is asked to pick them again after the upgrade, and the copies go.
 */
function dropStoredFileCopies(store: IDBPObjectStore<WsiDb, ArrayLike<StoreNames<WsiDb>>, 'batch-sources', 'versionchange'>): void {
  void store.openCursor().then(async function step(cursor): Promise<void> {
    if (!cursor) return;
    const v = cursor.value as { files?: File[]; entries?: unknown; origin?: string; dir?: unknown; [k: string]: unknown };
    if (v.files) {
      const { files, ...rest } = v;
      const entries = files.map((f) => ({ path: f.webkitRelativePath || f.name, size: f.size, lastModified: f.lastModified }));
      await cursor.update({ ...rest, id: v.id as string, batchId: v.batchId as string, origin: 'input', entries, folder: files.some((f) => !!f.webkitRelativePath) });
    } else if (!v.origin) {
      // A v2 directory record: the handle stays, its entries are learnt on the next walk.
      await cursor.update({ ...v, id: v.id as string, batchId: v.batchId as string, origin: 'directory', entries: v.entries ?? [] });
    }
    return step(await cursor.continue());
  });
}

export async function getSetting<T>(key: string, fallback: T): Promise<T> {
  const v = await (await db()).get('settings', key);
  return v === undefined ? fallback : (v as T);
}

export async function setSetting(key: string, value: unknown): Promise<void> {
  await (await db()).put('settings', value, key);
}
