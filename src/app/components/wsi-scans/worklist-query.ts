import { STATUS_LABELS, type ScanStatusName } from '../../../shared/status-names.ts';
import { plural } from '../../../shared/plural.ts';

/** What the Scans view asks the server for (GET /api/scans; see src/server/routes/scans-query.ts). */
export interface WorklistQuery {
  q: string;
  /** '' (all), 'attention' (needs a person) or one status slug. */
  status: string;
  unassigned: boolean;
  batch: string;
  uploadedBy: string;
  format: string;
  /** Local calendar days (YYYY-MM-DD) from <input type=date>; '' = open. */
  from: string;
  to: string;
  sort: 'date' | 'name' | 'status';
  dir: 'asc' | 'desc';
  page: number;
  size: number;
}

export const emptyQuery: WorklistQuery = { q: '', status: '', unassigned: false, batch: '', uploadedBy: '', format: '', from: '', to: '', sort: 'date', dir: 'desc', page: 0, size: 50 };

/** Scans someone has to look at: a scale to enter, a failure, a failed verification, a damaged upload. */
const attention: ScanStatusName[] = ['needs-mpp', 'failed', 'quarantined', 'corrupt'];

/** The status filter's choices, in words. */
export const statusChoices: { value: string; label: string }[] = [
  { value: '', label: 'All statuses' },
  { value: 'attention', label: 'Needs attention' },
  ...(Object.keys(STATUS_LABELS) as ScanStatusName[]).map((s) => ({ value: s, label: STATUS_LABELS[s] })),
];

/** A local day's start as a UTC timestamp (the server compares UTC times). */
function dayStart(day: string, plusDays = 0): string {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(y!, m! - 1, d! + plusDays).toISOString();
}

/** The query string of one page. */
export function queryString(w: WorklistQuery): string {
  const p = new URLSearchParams();
  if (w.q.trim()) p.set('q', w.q.trim());
  if (w.status === 'attention') p.set('status', attention.join(','));
  else if (w.status) p.set('status', w.status);
  if (w.unassigned) p.set('unassigned', 'true');
  if (w.batch) p.set('batch', w.batch);
  if (w.uploadedBy) p.set('uploadedBy', w.uploadedBy);
  if (w.format) p.set('format', w.format);
  if (/^\d{4}-\d{2}-\d{2}$/.test(w.from)) p.set('from', dayStart(w.from));
  // Inclusive of the chosen day: up to the start of the next.
  if (/^\d{4}-\d{2}-\d{2}$/.test(w.to)) p.set('to', dayStart(w.to, 1));
  p.set('sort', w.sort);
  p.set('dir', w.dir);
  p.set('limit', String(w.size));
  p.set('offset', String(w.page * w.size));
  return p.toString();
}

/** Whether any filter or search narrows the list (the empty state says "no scans match"). */
export function isFiltered(w: WorklistQuery): boolean {
  return !!(w.q.trim() || w.status || w.unassigned || w.batch || w.uploadedBy || w.format || w.from || w.to);
}

/** A date and time as the worklist shows them: "6 Jan 2025, 10:20". */
export const when = (iso: string) => new Date(iso).toLocaleString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });

/** "Batch of 12 Mar 2025, 10:32" — a batch has no name of its own; when it started tells it apart. */
export function batchName(createdAt: string): string {
  return `Batch of ${when(createdAt)}`;
}

/** The batch filter's option: "Batch of 12 Mar 2025, 10:32 — 12 scans by alice". */
export function batchChoice(b: { createdAt: string; scans: number; uploadedBy: { username: string | null } | null }): string {
  return `${batchName(b.createdAt)} — ${plural(b.scans, 'scan')}${b.uploadedBy?.username ? ` by ${b.uploadedBy.username}` : ''}`;
}

const batchIdPattern = /^[A-Za-z0-9_-]{1,64}$/;

/** The batch a link to the Scans page asks for (`/scans?batch=<id>`, e.g. from the Done step); '' = none or not a batch id. */
export function batchFromSearch(search: string): string {
  const b = new URLSearchParams(search).get('batch') ?? '';
  return batchIdPattern.test(b) ? b : '';
}

/** The Scans page's address with the batch filter in it (or not), keeping the rest of the query. */
export function searchWithBatch(search: string, batch: string): string {
  const p = new URLSearchParams(search);
  if (batch) p.set('batch', batch);
  else p.delete('batch');
  const q = p.toString();
  return q ? `?${q}` : '';
}

/** The batch filter's chip: its start when the filter choices know the batch, else the start of its id. */
export function batchChipLabel(batch: string, known: { batchId: string; createdAt: string }[]): string {
  const b = known.find((x) => x.batchId === batch);
  return b ? batchName(b.createdAt) : `Batch ${batch.slice(0, 8)}…`;
}

/** "Showing 51–100 of 1,234 scans", or "of more than 10,050" when the server stopped counting. */
export function rangeText(w: WorklistQuery, shown: number, total: number, exact: boolean): string {
  if (shown === 0) return '';
  const first = w.page * w.size + 1;
  const last = w.page * w.size + shown;
  const of = exact ? plural(total, 'scan') : `more than ${total.toLocaleString('en-US')} scans`;
  return `Showing ${first.toLocaleString('en-US')}–${last.toLocaleString('en-US')} of ${of}`;
}
