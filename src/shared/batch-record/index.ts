/**
 * The batch record (contract C6) in its three forms, and the names its files get. Written on the
 * lab PC by the page and by `wsi-import upload`; never uploaded.
 */
import { SlideError } from '../errors.ts';
import type { BatchRecordDoc } from './types.ts';

export type { BatchRecordDoc, SlideRecord, UploadState } from './types.ts';
export { batchRecordCsv, csvCell, CSV_COLUMNS, LIST_SEPARATOR } from './csv.ts';
export { batchRecordHtml, escapeHtml, recordTime, BATCH_RECORD_NOTICE } from './html.ts';

export const BATCH_RECORD_KIND = 'wsi-bulk-import.batch-record';

/** Pretty JSON: the complete record, for programs (and for a later look by a person). */
export function batchRecordJson(doc: BatchRecordDoc): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** A record read back from its JSON file; throws when the file is not a batch record this version reads. */
export function parseBatchRecord(text: string): BatchRecordDoc {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new SlideError('BAD_REQUEST', 'This file is not a batch record: it is not valid JSON.');
  }
  const o = v as Partial<BatchRecordDoc> | null;
  if (!o || typeof o !== 'object' || o.kind !== BATCH_RECORD_KIND) throw new SlideError('BAD_REQUEST', 'This file is not a batch record.');
  if (o.version !== 1) throw new SlideError('UNSUPPORTED', 'This batch record was written by a newer version; update WSI Bulk Import to read it.');
  if (typeof o.batchId !== 'string' || !Array.isArray(o.slides)) throw new SlideError('CORRUPT', 'This batch record is incomplete.');
  return o as BatchRecordDoc;
}

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * batch-<date>-<id8>.json/.csv/.html: the date the batch started on this computer's calendar, and
 * the first 8 characters of the batch id (letters, digits, '-' and '_' only — the id comes from a
 * client and becomes a file name).
 */
export function batchRecordFileNames(doc: BatchRecordDoc): { json: string; csv: string; html: string } {
  const d = new Date(doc.startedAt);
  const date = Number.isNaN(d.getTime()) ? 'undated' : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  const id8 = doc.batchId.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 8) || 'batch';
  const base = `batch-${date}-${id8}`;
  return { json: `${base}.json`, csv: `${base}.csv`, html: `${base}.html` };
}
