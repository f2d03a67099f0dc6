/**
 * The words the CSV and the HTML page use for each value of a slide record, so both say the same
 * thing. Unknown slugs (a newer client wrote the record) are shown as written, not hidden.
 */
import { plural } from '../plural.ts';
import type { SlideRecord } from './types.ts';

const MATCH_WORDS: Readonly<Record<string, string>> = {
  'manifest-barcode': 'Manifest, by barcode',
  'manifest-file': 'Manifest, by file name',
  barcode: 'Barcode on the slide',
  manual: 'Entered by hand',
};

export function matchWords(m: SlideRecord['match']): string {
  if (!m) return 'Not matched';
  const parts = [MATCH_WORDS[m.how] ?? m.how];
  if (m.line !== undefined) parts.push(`line ${m.line}`);
  if (!m.confirmed) parts.push('not confirmed');
  return parts.join(', ');
}

const CASE_STATE_WORDS: Readonly<Record<string, string>> = {
  linked: 'Linked',
  created: 'Case created and linked',
  'not-found': 'Not linked: the lab has no case with this number',
  'not-linked': 'Not linked: the scan did not finish processing',
  pending: 'Not linked yet',
};

export function caseStateWords(state: string | undefined): string {
  if (state === undefined) return '';
  return CASE_STATE_WORDS[state] ?? state;
}

const UPLOAD_WORDS: Readonly<Record<string, string>> = {
  uploaded: 'Uploaded',
  failed: 'Failed',
  skipped: 'Skipped',
  cancelled: 'Cancelled',
  'not-started': 'Not started',
};

export function uploadWords(u: SlideRecord['upload']): string {
  return UPLOAD_WORDS[u.state] ?? u.state;
}

export function verificationWords(v: SlideRecord['verification']): string {
  if (!v) return 'Not done (Direct Upload)';
  if (v.ok) return 'Passed';
  return v.problems.length ? `Failed: ${v.problems.join('; ')}` : 'Failed';
}

export function sweepWords(s: SlideRecord['sweep']): string {
  if (!s) return 'Not done';
  if (s.ok) return `Passed: no identifying value found (${plural(s.valuesSearched, 'value')} searched)`;
  return `Failed: ${plural(s.hits, 'identifying value')} found (${plural(s.valuesSearched, 'value')} searched)`;
}

const SERVER_CHECK_WORDS: Readonly<Record<string, string>> = {
  passed: 'Passed',
  quarantined: 'Quarantined',
  pending: 'Not finished',
};

export function serverCheckWords(c: string | undefined): string {
  if (c === undefined) return '';
  return SERVER_CHECK_WORDS[c] ?? c;
}

/** The slide's error, else its upload's (one column, one line on the page). */
export function slideError(s: SlideRecord): string {
  return s.error ?? s.upload.error ?? '';
}

/** What a slide is called in the record: its display name, else its first original file's name. */
export function slideTitle(s: SlideRecord, index: number): string {
  if (s.displayName) return s.displayName;
  const first = s.originalFiles[0]?.path;
  if (first) return first.slice(Math.max(first.lastIndexOf('/'), first.lastIndexOf('\\')) + 1) || first;
  return `Slide ${index + 1}`;
}
