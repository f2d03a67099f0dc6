import { scanSorts, scanStatuses, type ScanFilter, type ScanSort, type ScanStatus } from '../db/repos/scans.ts';
import { badRequest } from '../http/api-error.ts';
import { queryInt, queryString } from './deps.ts';

/** A page of the worklist holds at most this many scans. */
export const maxPageSize = 1000;

const isoDate = /^\d{4}-\d{2}-\d{2}$/;
const isoTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?Z$/;

/**
 * A date bound: an ISO timestamp in UTC as is, or a calendar date (UTC) as the start of that day —
 * or, for `to` (exclusive), the start of the next one, so `to=2025-03-01` includes that day. The
 * app sends timestamps made from the user's local days.
 */
function dateBound(q: unknown, key: 'from' | 'to'): string | undefined {
  const v = queryString(q, key, 30);
  if (v === undefined) return undefined;
  if (isoTime.test(v) && Number.isFinite(Date.parse(v))) return new Date(v).toISOString();
  if (isoDate.test(v) && Number.isFinite(Date.parse(`${v}T00:00:00Z`))) {
    const t = new Date(`${v}T00:00:00Z`);
    if (key === 'to') t.setUTCDate(t.getUTCDate() + 1);
    return t.toISOString();
  }
  throw badRequest(`${key} must be a date (YYYY-MM-DD) or a UTC time (YYYY-MM-DDTHH:MM:SSZ)`);
}

/**
 * GET /api/scans parameters:
 *   status=ready,needs-mpp   any of these statuses (comma-separated)
 *   unassigned=true          only scans in no case
 *   batch=<batchId>          one upload batch
 *   uploadedBy=<userId>      one uploader
 *   from=, to=               date range (see dateBound)
 *   format=aperio-svs        format (as ingested, else as claimed)
 *   q=text                   part of the name, file name or a linked case's number
 *   sort=date|name|status, dir=asc|desc (default: date, newest first)
 *   limit=1..1000 (default 100), offset=0..
 */
export function listQuery(q: unknown): ScanFilter & { sort: ScanSort; dir: 'asc' | 'desc' } {
  const statusText = queryString(q, 'status', 200);
  const statuses = statusText?.split(',').map((x) => x.trim()).filter(Boolean) ?? [];
  for (const st of statuses) if (!scanStatuses.includes(st as ScanStatus)) throw badRequest(`status must be one or more of ${scanStatuses.join(', ')}`);
  const unassigned = queryString(q, 'unassigned', 5);
  if (unassigned !== undefined && unassigned !== 'true' && unassigned !== 'false') throw badRequest('unassigned must be true or false');
  const batchId = queryString(q, 'batch', 64);
  if (batchId !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(batchId)) throw badRequest('batch must be a batch id');
  const uploaded = queryString(q, 'uploadedBy', 20);
  if (uploaded !== undefined && !/^[1-9]\d{0,15}$/.test(uploaded)) throw badRequest('uploadedBy must be a user id');
  const format = queryString(q, 'format', 40);
  if (format !== undefined && !/^[a-z0-9][a-z0-9-]{0,39}$/.test(format)) throw badRequest('format must be a format name such as aperio-svs');
  const sort = (queryString(q, 'sort', 10) ?? 'date') as ScanSort;
  if (!scanSorts.includes(sort)) throw badRequest(`sort must be one of ${scanSorts.join(', ')}`);
  const dir = queryString(q, 'dir', 4) ?? (sort === 'date' ? 'desc' : 'asc');
  if (dir !== 'asc' && dir !== 'desc') throw badRequest('dir must be asc or desc');
  const from = dateBound(q, 'from');
  const to = dateBound(q, 'to');
  const text = queryString(q, 'q', 200);
  return {
    ...(statuses.length ? { statuses: statuses as ScanStatus[] } : {}),
    unassigned: unassigned === 'true',
    ...(batchId ? { batchId } : {}),
    ...(uploaded ? { uploadedBy: Number(uploaded) } : {}),
    ...(from ? { from } : {}),
    ...(to ? { to } : {}),
    ...(format ? { format } : {}),
    ...(text ? { q: text } : {}),
    sort,
    dir,
    limit: queryInt(q, 'limit', 100, 1, maxPageSize),
    offset: queryInt(q, 'offset', 0, 0, Number.MAX_SAFE_INTEGER),
  };
}
