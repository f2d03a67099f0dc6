/**
 * The import wizard's batch, persisted in IndexedDB so a reload — or closing and reopening the
 * installed app — returns to the same step with the same files, decisions and upload progress.
 *
 * The record holds metadata values of the slides (the review needs them after a reload). That adds
 * no exposure: the original files, with the same values, are on the same PC. 'batch-sources' holds
 * how to find those files again (handles, or names/sizes/dates) — never their bytes.
 */
import { db, getSetting, setSetting } from './db.ts';
import type { BatchRecord, StepNo } from '../../upload/batch-types.ts';

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
  origin: SourceOrigin;
  /** What the user picked, for display: "3 files", a file name or the directory name. */
  label: string;
  /** What was picked, in every origin: re-selected or re-read files must match these. */
  entries: SourceEntry[];
  /** An <input webkitdirectory> pick: picking again means picking the folder again. */
  folder?: boolean;
  handles?: FileSystemFileHandle[];
  dir?: FileSystemDirectoryHandle;
  addedAt: number;
}

const CURRENT = 'current-batch';

export function newBatch(): BatchRecord {
  const key = crypto.getRandomValues(new Uint8Array(32));
  return {
    id: crypto.randomUUID(),
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

/** The batch the wizard was on, or a new empty one. */
export async function loadCurrentBatch(): Promise<BatchRecord> {
  const id = await getSetting<string | null>(CURRENT, null);
  if (id) {
    const rec = await (await db()).get('batches', id);
    if (rec) return rec as BatchRecord;
  }
  const b = newBatch();
  await saveBatch(b);
  await makeCurrent(b.id);
  return b;
}

/** The batch a reload returns to. Set when a batch is begun, not on every save. */
export async function makeCurrent(batchId: string): Promise<void> {
  await setSetting(CURRENT, batchId);
}

export async function saveBatch(batch: BatchRecord): Promise<void> {
  batch.updatedAt = Date.now();
  await (await db()).put('batches', batch);
}

export async function addSource(source: SourceRecord): Promise<void> {
  await (await db()).put('batch-sources', { ...source });
}

export async function getSources(batchId: string): Promise<SourceRecord[]> {
  return (await (await db()).getAllFromIndex('batch-sources', 'batchId', batchId)) as unknown as SourceRecord[];
}

/** Forget a batch and its files (the staged OPFS copies are removed by the caller). */
export async function deleteBatch(batchId: string): Promise<void> {
  const d = await db();
  const tx = d.transaction(['batches', 'batch-sources'], 'readwrite');
  await tx.objectStore('batches').delete(batchId);
  const sources = tx.objectStore('batch-sources');
  for (const key of await sources.index('batchId').getAllKeys(batchId)) await sources.delete(key);
  await tx.done;
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
    this.pending = this.pending.then(() => saveBatch(this.get())).catch(() => undefined);
    return this.pending;
  }
}
