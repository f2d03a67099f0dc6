/**
 * The batch record (contract C6): what was done to every slide of one import batch, written on
 * the lab PC when the batch ends — as JSON (complete), CSV (one row per slide) and a printable HTML
 * page. It holds the original file names and barcodes, the only link from a scan back to its glass
 * slide, so it is never uploaded.
 */
export interface BatchRecordDoc {
  kind: 'wsi-bulk-import.batch-record';
  version: 1;
  batchId: string;
  client: 'web' | 'cli';
  /** The server's origin, e.g. https://slides.example.org. */
  server: string;
  lab: string | null;
  user: string | null;
  /** ISO 8601. */
  startedAt: string;
  finishedAt: string;
  mode: 'deidentified' | 'direct';
  slides: SlideRecord[];
}

export type UploadState = 'uploaded' | 'failed' | 'skipped' | 'cancelled' | 'not-started';

export interface SlideRecord {
  originalFiles: { path: string; size: number; sha256: string | null }[];
  barcodes: { value: string; symbology: string; source: string }[];
  displayName: string | null;
  match: { how: string; line?: number; confirmed: boolean } | null;
  format: string | null;
  width: number | null;
  height: number | null;
  mpp: { x: number; y: number; source?: string } | null;
  sent: { name: string; size: number; sha256: string }[];
  /** Field labels, never values. */
  removedFields: string[];
  /** Image roles ('label', 'macro', …). */
  removedImages: string[];
  /** Labels of identifying fields the user chose to keep. */
  keptIdentifyingFields: string[];
  /** null: Direct Upload (nothing was de-identified, so nothing verified). */
  verification: { ok: boolean; problems: string[] } | null;
  sweep: { valuesSearched: number; hits: number; ok: boolean } | null;
  upload: { state: UploadState; error?: string };
  scan: { id: number; url: string; status: string; serverCheck?: 'passed' | 'quarantined' | 'pending' } | null;
  case: { number: string; state: string } | null;
  error?: string;
}
