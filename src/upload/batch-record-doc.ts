import type { BatchRecordDoc, SlideRecord } from '../shared/batch-record/index.ts';
import type { BatchRecord, SlideEntry } from './batch-types.ts';

/** What the server says about a slide's scan (GET /api/scans/:id), read by the Done step. */
export interface ScanFacts {
  status: string;
  name?: string;
  caseLink?: { caseNumber: string; state: string } | null;
}

export interface RecordContext {
  /** The server's origin (scan links in the record point there). */
  server: string;
  lab: string | null;
  user: string | null;
  /** Per slide id, what the server reported on its scan (absent: not asked, or not reachable). */
  scans?: Map<string, ScanFacts>;
  /** Default: now. */
  now?: number;
}

/**
 * The batch record (C6) of a wizard batch: per slide what was read, decided, sent and what the
 * server made of it. Built from the in-memory batch on this PC — it holds the original file names
 * and barcodes, which is why it is only ever saved as a download and never sent anywhere.
 */
export function batchRecordDoc(batch: BatchRecord, ctx: RecordContext): BatchRecordDoc {
  const now = ctx.now ?? Date.now();
  return {
    kind: 'wsi-bulk-import.batch-record',
    version: 1,
    batchId: batch.id,
    client: 'web',
    server: ctx.server,
    lab: ctx.lab,
    user: ctx.user,
    startedAt: new Date(batch.createdAt).toISOString(),
    finishedAt: new Date(batch.finishedAt ?? now).toISOString(),
    mode: batch.directUpload ? 'direct' : 'deidentified',
    slides: batch.slides.map((s) => slideRecord(batch, s, ctx)),
  };
}

function slideRecord(batch: BatchRecord, s: SlideEntry, ctx: RecordContext): SlideRecord {
  const direct = batch.directUpload;
  const facts = ctx.scans?.get(s.id);
  const removed = new Set(s.removeFields);
  const kept = new Set(s.staged?.keptFields ?? s.zeroCopy?.keptFields ?? []);
  const fieldLabel = (id: string) => s.fields.find((f) => f.id === id)?.label ?? id;
  const upload = uploadOf(batch, s);
  const error = s.error?.message ?? s.stageError ?? (s.serverCheck?.state === 'quarantined' ? s.serverCheck.reason : undefined) ?? firstPartError(s);
  return {
    originalFiles: s.parts.map((p, i) => ({ path: p.path, size: p.size, sha256: s.originalSha256?.[i] ?? null })),
    barcodes: (s.barcodes ?? []).map((b) => ({ value: b.value, symbology: b.symbology, source: b.source })),
    displayName: s.match?.name ?? facts?.name ?? null,
    match: s.match ? { how: s.match.how, ...(s.match.line !== undefined ? { line: s.match.line } : {}), confirmed: s.match.confirmed } : null,
    format: s.format ?? null,
    width: s.width ?? null,
    height: s.height ?? null,
    mpp: s.mpp ? { x: s.mpp.x, y: s.mpp.y, ...(s.mpp.source ? { source: s.mpp.source } : {}) } : null,
    sent: (s.uploads ?? []).filter((p) => p.state === 'done').map((p) => ({ name: p.name, size: p.size, sha256: p.sha256 })),
    // Labels only: the values removed are exactly what must not be written anywhere.
    removedFields: direct ? [] : s.removeFields.map(fieldLabel),
    removedImages: direct ? [] : s.removeImages.map((id) => s.images.find((i) => i.id === id)?.role ?? id),
    keptIdentifyingFields: direct ? [] : s.staged?.keptFields || s.zeroCopy ? [...kept].map(fieldLabel) : s.fields.filter((f) => f.class === 'phi' && !removed.has(f.id)).map((f) => f.label),
    ...checks(direct, s, upload.state === 'uploaded'),
    upload,
    scan: s.scanId !== undefined
      ? { id: s.scanId, url: `${ctx.server}/scans/${s.scanId}`, status: facts?.status ?? 'unknown', ...(s.serverCheck ? { serverCheck: s.serverCheck.state } : {}) }
      : null,
    case: facts?.caseLink ? { number: facts.caseLink.caseNumber, state: facts.caseLink.state } : null,
    ...(error ? { error } : {}),
  };
}

/**
 * Verification and sweep of what was sent. A staged copy carries its engine report. A zero-copy
 * slide was verified through its views before its first byte left (the upload cannot start
 * otherwise) and every chunk was swept before it left: once all its parts are on the server,
 * both passed; before that the record does not claim them.
 */
function checks(direct: boolean, s: SlideEntry, uploaded: boolean): Pick<SlideRecord, 'verification' | 'sweep'> {
  if (direct) return { verification: null, sweep: null };
  if (s.staged) return { verification: { ok: s.staged.verifyOk, problems: s.staged.problems }, sweep: { ...s.staged.sweep } };
  if (s.sendMode === 'zero-copy' && s.zeroCopy && uploaded) {
    return { verification: { ok: true, problems: [] }, sweep: { valuesSearched: s.zeroCopy.valuesSearched ?? 0, hits: 0, ok: true } };
  }
  return { verification: null, sweep: null };
}

function uploadOf(batch: BatchRecord, s: SlideEntry): SlideRecord['upload'] {
  if (s.error || s.excluded) return { state: 'skipped' };
  const parts = s.uploads ?? [];
  if (parts.length && parts.every((p) => p.state === 'done')) return { state: 'uploaded' };
  const failed = parts.find((p) => p.state === 'failed');
  if (failed || s.stageError) return { state: 'failed', error: failed?.error ?? s.stageError ?? 'failed' };
  if (batch.uploadCancelled || parts.some((p) => p.state === 'cancelled')) return { state: 'cancelled' };
  return { state: 'not-started' };
}

function firstPartError(s: SlideEntry): string | undefined {
  return s.uploads?.find((p) => p.state === 'failed' && p.error)?.error;
}
