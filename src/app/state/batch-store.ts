import type { FieldClass, ImageRole } from '../../engine/formats/slide-format.ts';
import { db, getSetting, setSetting } from './db.ts';

/**
 * The import wizard's batch, persisted in IndexedDB so a reload — or closing and reopening the
 * installed app — returns to the same step with the same files, decisions and upload progress.
 *
 * The record holds metadata values of the slides (the review needs them after a reload). That adds
 * no exposure: the original files, with the same values, are on the same PC. 'batch-sources' holds
 * how to find those files again (handles, or names/sizes/dates) — never their bytes.
 */
export type StepNo = 1 | 2 | 3 | 4 | 5 | 6 | 7;

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

/** A file of a slide: which selection holds it and its path inside that selection. */
export interface PartRef {
  sourceId: string;
  /** File name, or the relative path inside a picked directory. */
  path: string;
  size: number;
}

export interface FieldSummary {
  id: string;
  label: string;
  value: string;
  class: FieldClass;
  reason?: string;
}

export interface ImageSummary {
  id: string;
  role: ImageRole;
  width: number;
  height: number;
  compression: string;
}

export interface StagedOutput {
  name: string;
  /** Path below the OPFS root, '/'-separated. */
  opfsPath: string;
  size: number;
  sha256: string;
  /** Deleted from OPFS after the server confirmed the upload. */
  deleted?: boolean;
}

export interface StagedSlide {
  outputs: StagedOutput[];
  verifyOk: boolean;
  problems: string[];
  sweep: { valuesSearched: number; hits: number; ok: boolean };
}

export type PartState = 'queued' | 'uploading' | 'paused' | 'verifying' | 'done' | 'failed' | 'cancelled';

export interface PartUpload {
  part: number;
  name: string;
  size: number;
  sha256: string;
  state: PartState;
  bytesSent: number;
  error?: string;
}

export interface SlideEntry {
  /** The upload contract's slideId: a UUID made at inspection, stable across reloads and retries. */
  id: string;
  sourceId: string;
  name: string;
  parts: PartRef[];
  /** Sum of the parts' sizes. */
  size: number;
  format?: string;
  width?: number;
  height?: number;
  mpp?: { x: number; y: number; source?: string };
  fields: FieldSummary[];
  images: ImageSummary[];
  /** Set when the slide cannot be read; it stays in the list with its message and is skipped. */
  error?: { code: string; message: string };
  removeFields: string[];
  removeImages: string[];
  /** Removed from the batch by the user in the review. */
  excluded?: boolean;
  staged?: StagedSlide;
  stageError?: string;
  uploads?: PartUpload[];
  scanId?: number;
}

export interface BatchRecord {
  id: string;
  createdAt: number;
  updatedAt: number;
  step: StepNo;
  directUpload: boolean;
  /** HMAC key (hex) for DICOM UID remapping: one per batch so a retry gives the same UIDs. */
  uidKey: string;
  slides: SlideEntry[];
  /** "Start upload" was pressed: from here on bytes may leave the browser. */
  uploadStarted: boolean;
  /** The user paused; a reload must not resume on its own. */
  uploadPaused: boolean;
  [k: string]: unknown;
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
