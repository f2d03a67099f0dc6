import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { batchRecordCsv, batchRecordFileNames, batchRecordHtml, batchRecordJson } from '../../shared/batch-record/index.ts';
import type { BatchRecordDoc, SlideRecord } from '../../shared/batch-record/index.ts';
import type { SlideState, UploadState } from './state-file.ts';

/** How one slide of this run ended (what the record's upload/scan/case columns say). */
export interface SlideOutcome {
  state: SlideRecord['upload']['state'];
  error?: string;
  scan?: { id: number; status: string; serverCheck?: 'passed' | 'quarantined' | 'pending' };
  caseLink?: { caseNumber: string; state: string } | null;
}

/** The batch record (C6) of a CLI run: per slide what was read, de-identified, sent and linked. */
export function cliRecord(state: UploadState, ctx: { lab: string | null; user: string | null; direct: boolean; finishedAt: Date }, slides: { entry?: SlideState; input: string; outcome: SlideOutcome }[]): BatchRecordDoc {
  return {
    kind: 'wsi-bulk-import.batch-record',
    version: 1,
    batchId: state.batchId,
    client: 'cli',
    server: state.server,
    lab: ctx.lab,
    user: ctx.user,
    startedAt: state.startedAt,
    finishedAt: ctx.finishedAt.toISOString(),
    mode: ctx.direct ? 'direct' : 'deidentified',
    slides: slides.map(({ entry: e, input, outcome }) => {
      const direct = ctx.direct;
      // With --direct the originals are what was sent: their hashes are the originals' hashes.
      const originalSha = (i: number) => (direct && e?.sent?.[i] ? e.sent[i]!.sha256 : null);
      return {
        originalFiles: e ? e.files.map((f, i) => ({ path: f.path, size: f.size, sha256: originalSha(i) })) : [{ path: input, size: 0, sha256: null }],
        barcodes: e?.facts?.barcodes ?? [],
        displayName: e?.match?.name ?? null,
        match: e?.match ? { how: e.match.how, ...(e.match.line !== undefined ? { line: e.match.line } : {}), confirmed: e.match.confirmed } : null,
        format: e?.facts?.format ?? null,
        width: e?.facts?.width ?? null,
        height: e?.facts?.height ?? null,
        mpp: e?.facts?.mpp ?? null,
        sent: (e?.sent ?? []).filter((_, i) => e?.parts[i]?.done).map((s) => ({ name: s.path ?? s.name, size: s.size, sha256: s.sha256 })),
        removedFields: direct ? [] : (e?.report?.removedFields ?? []),
        removedImages: direct ? [] : (e?.report?.removedImages ?? []),
        keptIdentifyingFields: direct ? [] : (e?.report?.keptFieldLabels ?? []),
        verification: direct || !e?.report ? null : e.report.verification,
        sweep: direct || !e?.report ? null : e.report.sweep,
        upload: { state: outcome.state, ...(outcome.error ? { error: outcome.error } : {}) },
        scan: outcome.scan ? { id: outcome.scan.id, url: `${state.server}/scans/${outcome.scan.id}`, status: outcome.scan.status, ...(outcome.scan.serverCheck ? { serverCheck: outcome.scan.serverCheck } : {}) } : null,
        case: outcome.caseLink ? { number: outcome.caseLink.caseNumber, state: outcome.caseLink.state } : null,
        ...(outcome.error ? { error: outcome.error } : {}),
      };
    }),
  };
}

/** Writes the JSON, CSV and HTML record into the output folder (each whole, then renamed). */
export async function writeRecord(outDir: string, doc: BatchRecordDoc): Promise<{ json: string; csv: string; html: string }> {
  const names = batchRecordFileNames(doc);
  const paths = { json: join(outDir, names.json), csv: join(outDir, names.csv), html: join(outDir, names.html) };
  const write = async (path: string, text: string) => {
    await writeFile(`${path}.tmp`, text, { mode: 0o600 });
    await rename(`${path}.tmp`, path);
  };
  await write(paths.json, batchRecordJson(doc));
  await write(paths.csv, batchRecordCsv(doc));
  await write(paths.html, batchRecordHtml(doc));
  return paths;
}
