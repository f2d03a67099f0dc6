import { openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction, type StoreNames } from 'idb';

/**
 * The app's one IndexedDB database. It lives in the upload layer because the upload queue keeps
 * its tus URLs here and dependencies point down (app → upload → engine → shared); the app reaches
 * it through src/app/state/db.ts. Upgrades are versioned: add a `case` for each new version,
 * never edit an old one (installed PWAs upgrade from any earlier version).
 */
export interface WsiDb extends DBSchema {
  /**
   * tus upload URLs, keyed by tus-js-client's url storage key; looked up by our fingerprint, always
   * within one user's entries (v4: `userId`, see IdbUrlStorage).
   */
  'tus-urls': { key: string; value: StoredUpload; indexes: { fingerprint: string; userId: number } };
  /** Small settings (e.g. 'show-thumbnails'; per user: 'current-batch:<userId>'). */
  settings: { key: string; value: unknown };
  /** Persisted batches of the import wizard, keyed by batch id; each belongs to one user (v4). */
  batches: { key: string; value: { id: string; userId: number; updatedAt: number; [k: string]: unknown }; indexes: { userId: number } };
  /**
   * The selections of a batch, one record per pick (v2): file/directory handles or the names, sizes
   * and dates of <input> picks (see SourceRecord). Never File objects: Chromium copies a stored
   * File's bytes into the database (v2 did; v3 dropped those copies). v4: with the batch's userId.
   */
  'batch-sources': { key: string; value: { id: string; batchId: string; userId: number; [k: string]: unknown }; indexes: { batchId: string } };
}

export interface StoredUpload {
  key: string;
  fingerprint: string;
  uploadUrl: string;
  size: number;
  metadata: Record<string, string>;
  creationTime: string;
  urlStorageKey?: string;
  /** The signed-in user who created the upload (v4): only their queue finds or removes it. */
  userId: number;
}

export const DB_NAME = 'wsi-bulk-import';
const DB_VERSION = 4;
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
      // v3 rewrote v2's source records in place (dropping stored File copies). v4 below discards
      // every record made before it, which leaves that rewrite nothing to do (its cursor would even
      // put back a record the discard had removed), so from v2 the discard alone runs.
      if (oldVersion < 4) {
        transaction.objectStore('batches').createIndex('userId', 'userId');
        transaction.objectStore('tus-urls').createIndex('userId', 'userId');
        if (oldVersion > 0) discardUnowned(transaction);
      }
    },
    // Another tab of a newer version wants to upgrade: let it (this tab reopens on its next call).
    blocking(_current, _next, event) {
      (event.target as IDBDatabase).close();
      dbPromise = undefined;
    },
  });
  return dbPromise;
}

/**
 * Batches, selections and upload URLs stored before v4 carry no user id: there is no telling who
 * made them on a shared lab PC. Giving them to whoever signs in first is the very leak v4 closes
 * (their records hold file names and metadata values), and keeping them unowned would leave those
 * values on the PC with nobody able to see or remove them. So they are discarded; the original
 * files are still on the PC, and slides already uploaded are on the server. Their OPFS copies (old
 * layout `wsi-staging/<batchId>/`) are removed by sweepStaging at the next sign-in, as OPFS cannot
 * be reached from an upgrade transaction. Unfinished uploads they left on the server expire there
 * (WSI_UPLOAD_EXPIRY_HOURS).
 */
function discardUnowned(transaction: IDBPTransaction<WsiDb, StoreNames<WsiDb>[], 'versionchange'>): void {
  void transaction.objectStore('batches').clear();
  void transaction.objectStore('batch-sources').clear();
  void transaction.objectStore('tus-urls').clear();
  void transaction.objectStore('settings').delete('current-batch');
}

export async function getSetting<T>(key: string, fallback: T): Promise<T> {
  const v = await (await db()).get('settings', key);
  return v === undefined ? fallback : (v as T);
}

export async function setSetting(key: string, value: unknown): Promise<void> {
  await (await db()).put('settings', value, key);
}
