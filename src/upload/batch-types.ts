import type { FieldClass, ImageRole } from '../engine/formats/slide-format.ts';
import type { RedactionRequest } from '../engine/redact/plan-types.ts';
import type { ManifestProblem, ManifestRow } from '../shared/manifest.ts';
import type { SlideMatch } from '../shared/case-match.ts';

/**
 * The records of an import batch that the uploader reads and updates (persisted by the app in
 * IndexedDB, see src/app/state/batch-store.ts). Defined here, below the app, so the upload layer
 * does not depend on the app.
 */

/** The wizard's steps (titles in the app's batch-store). */
export type StepNo = 1 | 2 | 3 | 4 | 5 | 6 | 7;

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
  /**
   * Identifying fields the user chose to keep (the engine report's ids), sent with each part as
   * `keptFields` so the server's verification tolerates exactly these. Absent in copies staged
   * before this was recorded: they are sent with none, and the server quarantines what it finds.
   */
  keptFields?: string[];
  /** Text segments (COM, APPn) blanked inside the slide's JPEG / JPEG 2000 data (engine report). */
  blankedSegments?: number;
}

/**
 * The server's verdict on a de-identified slide after all its parts arrived: it verifies the
 * stored bytes again and quarantines a slide that fails. 'pending' until ingest has run.
 */
export interface ServerCheck {
  state: 'pending' | 'passed' | 'quarantined';
  /** Quarantined: the server's reason (words, never values). */
  reason?: string;
}

/** 'waiting': the server's storage was full; the part is tried again later (its `error` says when). */
export type PartState = 'queued' | 'uploading' | 'paused' | 'waiting' | 'verifying' | 'done' | 'failed' | 'cancelled';

export interface PartUpload {
  part: number;
  name: string;
  /** The part's path inside a multi-file slide found by name (MIRAX), sent as `path` (upload-name.ts). */
  path?: string;
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
  /** Parts of the slide are missing (what cannot be read); it is de-identified only with `allowIncomplete`. */
  incomplete?: string;
  /** The user agreed to de-identify and upload what is there of an incomplete slide. */
  allowIncomplete?: boolean;
  /**
   * A zipped DICOM folder, sent as it is with Direct Upload (the server unpacks it). Without
   * Direct Upload it carries an error, since the browser cannot de-identify inside a zip.
   */
  zipped?: boolean;
  removeFields: string[];
  removeImages: string[];
  /** Removed from the batch by the user in the review. */
  excluded?: boolean;
  staged?: StagedSlide;
  stageError?: string;
  uploads?: PartUpload[];
  scanId?: number;
  /** De-identified slides only, once every part is uploaded. */
  serverCheck?: ServerCheck;
  /**
   * Barcodes read from the slide itself (label, macro, vendor metadata) at inspection. Used here
   * to match the slide to a case and written to the batch record on this PC; never sent, unless
   * one is the case number the user confirmed.
   */
  barcodes?: SlideBarcode[];
  /** The slide's case and display name (case-matching.ts); null: no match (flagged, not blocked). */
  match?: SlideMatch | null;
  /** SHA-256 of each original part, for the batch record (hashed once, in the worker, while staging). */
  originalSha256?: string[];
  /**
   * How the de-identified slide is sent (issue 15): straight from the original through checked
   * views ('zero-copy', nothing written to this PC), or from a de-identified copy staged in OPFS.
   * Set when the slide's uploads are prepared; absent before, and in Direct Upload.
   */
  sendMode?: SendMode;
  /** Zero-copy slides: what the staged copy's report would say, taken from the verified views. */
  zeroCopy?: ZeroCopyPlan;
}

export type SendMode = 'zero-copy' | 'staged';

export interface ZeroCopyPlan {
  /** Resume key of its uploads: its decisions and the originals' sizes and dates (see plan-key.ts). */
  planKey: string;
  /** Identifying fields the user kept, sent as `keptFields` (as StagedSlide.keptFields). */
  keptFields: string[];
  /** Identifying values each chunk was swept for before it left (for the batch record). */
  valuesSearched?: number;
}

export interface SlideBarcode {
  value: string;
  symbology: string;
  source: string;
}

/** A loaded manifest (CSV or pasted table): kept with the batch so a reload keeps the matches. */
export interface BatchManifest {
  fileName: string;
  rows: ManifestRow[];
  problems: ManifestProblem[];
}

export interface BatchRecord {
  id: string;
  /**
   * The signed-in user who made the batch: only their session loads, lists or removes it (a lab
   * PC is shared; the record holds file names and metadata values until the batch is finished).
   */
  userId: number;
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
  /** The user cancelled the upload: it stays cancelled (also after a reload) until "Start again". */
  uploadCancelled?: boolean;
  manifest?: BatchManifest;
  /** The user allowed the server to create cases the lab does not have yet (sent as `createCase`). */
  createMissingCases?: boolean;
  /** When the batch reached the Done step. */
  finishedAt?: number;
  [k: string]: unknown;
}


/** The engine request for a slide's decisions (one place, so staging and upload never differ). */
export function redactionRequest(s: SlideEntry, uidKey: string): RedactionRequest {
  return {
    removeFields: s.removeFields,
    removeImages: s.removeImages,
    options: { uidKey, ...(s.incomplete && s.allowIncomplete ? { allowIncomplete: true } : {}) },
  };
}
