/**
 * The batch record as CSV: one row per slide, RFC 4180 (CRLF, quoted where needed), safe to open in
 * a spreadsheet — a value that would start a formula (=, +, -, @, or a tab/CR) gets a leading '.
 * Lists (files, hashes, barcodes, fields) are joined with " | " in the same order, so the n-th hash
 * belongs to the n-th file.
 */
import { formatLabel } from '../format-names.ts';
import type { BatchRecordDoc, SlideRecord } from './types.ts';
import { caseStateWords, matchWords, slideError, sweepWords, uploadWords, verificationWords } from './words.ts';

export const LIST_SEPARATOR = ' | ';

type Cell = string | number | null | undefined;

const COLUMNS: readonly [string, (s: SlideRecord) => Cell][] = [
  ['Display name', (s) => s.displayName],
  ['Case', (s) => s.case?.number],
  ['Case state', (s) => caseStateWords(s.case?.state)],
  ['Match', (s) => matchWords(s.match)],
  ['Original files', (s) => s.originalFiles.map((f) => f.path).join(LIST_SEPARATOR)],
  ['Original SHA-256', (s) => s.originalFiles.map((f) => f.sha256 ?? 'not computed').join(LIST_SEPARATOR)],
  ['Barcodes', (s) => s.barcodes.map((b) => b.value).join(LIST_SEPARATOR)],
  ['Format', (s) => (s.format ? formatLabel(s.format) : '')],
  ['Width', (s) => s.width],
  ['Height', (s) => s.height],
  ['MPP x', (s) => s.mpp?.x],
  ['MPP y', (s) => s.mpp?.y],
  ['Sent files', (s) => s.sent.map((f) => f.name).join(LIST_SEPARATOR)],
  ['Sent SHA-256', (s) => s.sent.map((f) => f.sha256).join(LIST_SEPARATOR)],
  ['Removed fields', (s) => s.removedFields.join(LIST_SEPARATOR)],
  ['Removed images', (s) => s.removedImages.join(LIST_SEPARATOR)],
  ['Kept identifying fields', (s) => s.keptIdentifyingFields.join(LIST_SEPARATOR)],
  ['Verification', (s) => verificationWords(s.verification)],
  ['Sweep', (s) => sweepWords(s.sweep)],
  ['Upload', (s) => uploadWords(s.upload)],
  ['Scan id', (s) => s.scan?.id],
  ['Scan link', (s) => s.scan?.url],
  ['Error', (s) => slideError(s)],
];

/** The header row's labels, in order (tests and readers of the file). */
export const CSV_COLUMNS: readonly string[] = COLUMNS.map(([label]) => label);

/** One CSV cell: numbers as they are; text made formula-safe, then quoted when RFC 4180 needs it. */
export function csvCell(v: Cell): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  // Leading whitespace does not stop every spreadsheet from reading a formula, so look past it.
  const safe = /^[\s]*[=+\-@]/.test(v) || /^[\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]|^\s|\s$/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function batchRecordCsv(doc: BatchRecordDoc, opts: { bom?: boolean } = {}): string {
  const lines = [CSV_COLUMNS.map(csvCell).join(','), ...doc.slides.map((s) => COLUMNS.map(([, get]) => csvCell(get(s))).join(','))];
  // A BOM makes Excel read the file as UTF-8 (accented names); off by default: RFC 4180 has none.
  return `${opts.bom ? '\uFEFF' : ''}${lines.join('\r\n')}\r\n`;
}
