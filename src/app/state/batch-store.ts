/**
 * The import wizard's batch, persisted in IndexedDB so a reload — or closing and reopening the
 * installed app, or signing in again after the session ended — returns to the same step with the
 * same files, decisions and upload progress.
 *
 * Every batch belongs to the user who made it (`userId`), and every function here takes that user:
 * a lab PC is shared, and the record holds file names and metadata values of the slides (the review
 * needs them after a reload). To that user this adds no exposure — the original files, with the
 * same values, are on the same PC — but another user signing in on the same browser profile must
 * never get them. Once a batch is finished its record keeps no values (finishedForm); a discarded
 * one leaves nothing. 'batch-sources' holds how to find the files again (handles, or names/sizes/
 * dates) — never their bytes.
 */
import { db, getSetting, setSetting } from './db.ts';
import type { BatchRecord, SlideEntry, StepNo } from '../../upload/batch-types.ts';
import type { SlideMatch } from '../../shared/case-match.ts';
import { IdbUrlStorage } from '../../upload/idb-url-storage.ts';
import { batchStagingDir, deleteStagedDir, type BatchOwner } from '../../upload/staging.ts';

// The batch's record types are defined in the upload layer (the uploader works on them; dependencies
// point down) and re-exported for the app's modules.
export type { BatchRecord, StepNo, FieldSummary, ImageSummary, PartRef, PartState, PartUpload, ServerCheck, SlideEntry, StagedOutput, StagedSlide } from '../../upload/batch-types.ts';

export const STEP_TITLES: Record<StepNo, string> = {
  1: 'Select',
  2: 'Files',
  3: 'Metadata',
  4: 'Images',
  5: 'Review',
  6: 'Upload',
  7: 'Done',
};

/** A picked file as it was when picked: enough to recognise it again, and to refuse a different one. */
export interface SourceEntry {
  /** File name, or the relative path inside a picked directory. */
  path: string;
  size: number;
  lastModified: number;
}

/**
 * How a selection's original files are found again after a reload. Slide bytes are never copied
 * into IndexedDB (Chromium would snapshot every byte of a picked File: seconds and gigabytes):
 * - 'handles': FileSystemFileHandles from showOpenFilePicker, one per file;
 * - 'directory': a FileSystemDirectoryHandle from showDirectoryPicker, walked again;
 * - 'input': <input type=file> (or webkitdirectory): nothing to keep; after a reload the user picks
 *   the same files again and they are matched by path, size and lastModified.
 * Handles need read permission again after a reload, which only a click can ask for.
 */
export type SourceOrigin = 'handles' | 'directory' | 'input';

/** One selection: files or a directory, from a picker or an <input>. */
export interface SourceRecord {
  id: string;
  batchId: string;
  /** The batch's user (sources are read only together with their batch, by that user). */
  userId: number;
  origin: SourceOrigin;
  /** What the user picked, for display: "3 files", a file name or the directory name. */
  label: string;
  /** What was picked, in every origin: re-selected or re-read files must match these. */
  entries: SourceEntry[];
  /** An <input webkitdirectory> pick: picking again means picking the folder again. */
  folder?: boolean;
  handles?: FileSystemFileHandle[];
  dir?: FileSystemDirectoryHandle;
  /** Files of a folder pick left out because they are not slides (paths), for step 1's summary. */
  skipped?: string[];
  addedAt: number;
}

/** Per user: the batch their wizard is on. */
const currentKey = (userId: number) => `current-batch:${userId}`;

export function newBatch(userId: number): BatchRecord {
  const key = crypto.getRandomValues(new Uint8Array(32));
  return {
    id: crypto.randomUUID(),
    userId,
    createdAt: Date.now(),
    updatedAt: Date.now(),
    step: 1,
    directUpload: false,
    uidKey: [...key].map((b) => b.toString(16).padStart(2, '0')).join(''),
    slides: [],
    uploadStarted: false,
    uploadPaused: false,
  };
}

/** The batch this user's wizard was on, or a new empty one. */
export async function loadCurrentBatch(userId: number): Promise<BatchRecord> {
  const b = await currentBatchOf(userId);
  if (b) return b;
  const fresh = newBatch(userId);
  await createBatch(fresh);
  await makeCurrent(fresh);
  return fresh;
}

/** The user's current batch as stored, if any (nothing of other users, whatever the setting says). */
export async function currentBatchOf(userId: number): Promise<BatchRecord | undefined> {
  const id = await getSetting<string | null>(currentKey(userId), null);
  if (!id) return undefined;
  const rec = (await (await db()).get('batches', id)) as BatchRecord | undefined;
  return rec?.userId === userId ? rec : undefined;
}

/**
 * Whether the batch holds work that signing out would leave behind: slides picked and not yet
 * finished. An empty batch holds nothing; a finished one holds no values (finishedForm).
 */
export function isUnfinished(batch: BatchRecord): boolean {
  return batch.slides.length > 0 && batch.step !== 7;
}

/** The batch a reload returns to. Set when a batch is begun, not on every save. */
export async function makeCurrent(batch: BatchOwner): Promise<void> {
  await setSetting(currentKey(batch.userId), batch.id);
}

/** Store a new batch (saveBatch only updates: it never brings back a discarded one). */
export async function createBatch(batch: BatchRecord): Promise<void> {
  batch.updatedAt = Date.now();
  await (await db()).add('batches', batch);
}

/**
 * Store the batch's current state. Only an existing batch of the same user is updated: a save still
 * pending when the batch was discarded (sign-out, another tab) must not bring its values back.
 * A finished batch is stored without values, and its selections (file names) and upload URLs go.
 */
export async function saveBatch(batch: BatchRecord): Promise<boolean> {
  batch.updatedAt = Date.now();
  const tx = (await db()).transaction(['batches', 'batch-sources'], 'readwrite');
  const batches = tx.objectStore('batches');
  const old = await batches.get(batch.id);
  const ok = old?.userId === batch.userId;
  if (ok && batch.step === 7) {
    await batches.put(finishedForm(batch));
    const sources = tx.objectStore('batch-sources');
    for (const key of await sources.index('batchId').getAllKeys(batch.id)) await sources.delete(key);
  } else if (ok) await batches.put(batch);
  await tx.done;
  if (ok && batch.step === 7) await new IdbUrlStorage(batch.userId).removeBatch(batch.id);
  return ok;
}

/**
 * What a finished batch's record keeps: the Done step's list (which slide became which scan, its
 * size and format, the SHA-256 of each part sent — a hash of de-identified bytes, proof of what
 * went) and nothing read from the files — no metadata values, no file or folder names (slides
 * become "Slide 1", "Slide 2"…), no paths, no staged-copy names, no UID key. An allowlist, so a
 * field added to the record later is dropped unless it is added here on purpose.
 */
export function finishedForm(batch: BatchRecord): BatchRecord {
  const slides = batch.slides.filter((s) => !s.error && !s.excluded);
  return {
    id: batch.id,
    userId: batch.userId,
    createdAt: batch.createdAt,
    updatedAt: batch.updatedAt,
    step: 7,
    directUpload: batch.directUpload,
    uidKey: '',
    uploadStarted: true,
    uploadPaused: false,
    ...(batch.finishedAt !== undefined ? { finishedAt: batch.finishedAt } : {}),
    slides: slides.map((s, i): SlideEntry => ({
      id: s.id,
      sourceId: '',
      name: `Slide ${i + 1}`,
      parts: [],
      size: s.size,
      ...(s.format ? { format: s.format } : {}),
      ...(s.width !== undefined ? { width: s.width } : {}),
      ...(s.height !== undefined ? { height: s.height } : {}),
      fields: [],
      images: [],
      removeFields: [],
      removeImages: [],
      ...(s.uploads ? { uploads: s.uploads.map((p) => ({ part: p.part, name: '', size: p.size, sha256: p.sha256, state: p.state, bytesSent: p.bytesSent })) } : {}),
      ...(s.scanId !== undefined ? { scanId: s.scanId } : {}),
      ...(s.serverCheck ? { serverCheck: { state: s.serverCheck.state } } : {}),
      // Only what went to the server with the upload: the display name and a confirmed case.
      ...(s.match !== undefined ? { match: sentMatch(s.match) } : {}),
    })),
  };
}

function sentMatch(m: SlideMatch | null): SlideMatch | null {
  if (!m) return null;
  return { how: m.how, confirmed: m.confirmed, ...(m.name ? { name: m.name } : {}), ...(m.caseNumber && m.confirmed ? { caseNumber: m.caseNumber } : {}) };
}

export async function addSource(source: SourceRecord): Promise<void> {
  await (await db()).put('batch-sources', { ...source });
}

export async function getSources(batch: BatchOwner): Promise<SourceRecord[]> {
  const all = (await (await db()).getAllFromIndex('batch-sources', 'batchId', batch.id)) as unknown as SourceRecord[];
  return all.filter((s) => s.userId === batch.userId);
}

/** Forget one selection (the user removed it); its slides are the caller's to drop from the batch. */
export async function deleteSource(source: SourceRecord): Promise<void> {
  const store = (await db()).transaction('batch-sources', 'readwrite').objectStore('batch-sources');
  const old = await store.get(source.id);
  if (old?.userId === source.userId) await store.delete(source.id);
}

/** Ids of every batch the user has on this PC (the staging sweep keeps their folders). */
export async function batchIdsOf(userId: number): Promise<string[]> {
  return (await (await db()).getAllKeysFromIndex('batches', 'userId', userId)) as string[];
}

/**
 * Forget a batch of this user: its record (metadata values, file names), its selections, its stored
 * upload URLs and its staged OPFS copies. Unfinished uploads on the server are the caller's to end
 * first (the uploader's cancel, or terminateStoredUploads), while the session is still valid.
 */
export async function deleteBatch(batch: BatchOwner): Promise<void> {
  const d = await db();
  const tx = d.transaction(['batches', 'batch-sources', 'settings'], 'readwrite');
  const batches = tx.objectStore('batches');
  if ((await batches.get(batch.id))?.userId === batch.userId) {
    await batches.delete(batch.id);
    const sources = tx.objectStore('batch-sources');
    for (const key of await sources.index('batchId').getAllKeys(batch.id)) await sources.delete(key);
    const settings = tx.objectStore('settings');
    if ((await settings.get(currentKey(batch.userId))) === batch.id) await settings.delete(currentKey(batch.userId));
  }
  await tx.done;
  await new IdbUrlStorage(batch.userId).removeBatch(batch.id);
  await deleteStagedDir(batchStagingDir(batch)).catch(() => undefined);
}

/**
 * Saves coalesced: progress events arrive many times a second, one IDB write per 500 ms is enough
 * to come back within a second of where a reload interrupted.
 */
export class BatchSaver {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private pending: Promise<void> = Promise.resolve();
  constructor(private readonly get: () => BatchRecord, private readonly delayMs = 500) {}

  schedule(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.now();
    }, this.delayMs);
  }

  now(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    // Chain so two saves never race and the last state always wins.
    this.pending = this.pending.then(async () => void (await saveBatch(this.get()))).catch(() => undefined);
    return this.pending;
  }
}
