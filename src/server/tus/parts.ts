import type { Repos } from '../db/repos/index.ts';
import type { ScanRow, ScanStatus } from '../db/repos/scans.ts';
import type { UploadRow } from '../db/repos/uploads.ts';
import { badRequest, conflict } from '../http/api-error.ts';
import type { Storage } from '../storage.ts';
import type { PartMetadata } from './metadata.ts';
import { DEFERRED_SHA256 } from '../../shared/upload-digest.ts';

/**
 * Refuse a new part that contradicts what the server already knows about the slide. A part that is
 * already stored with the same hash is allowed (finishing it is a no-op): a client that lost track
 * of a finished upload can simply send it again. A part whose hash is deferred is allowed too: its
 * content is compared with the stored copy when it is finished.
 */
export async function checkNewPart(repos: Repos, labId: number, md: PartMetadata): Promise<void> {
  const scan = await repos.scans.bySlideId(labId, md.slideId);
  const expectedParts = scan?.parts ?? (await repos.uploads.forSlide(labId, md.slideId))[0]?.parts;
  if (expectedParts !== undefined && expectedParts !== md.parts) throw badRequest(`this slide was announced with ${expectedParts} parts, not ${md.parts}`, 'PARTS_MISMATCH');
  if (scan && scan.mode !== md.mode) throw badRequest('all parts of a slide must use the same mode', 'MODE_MISMATCH');
  // Its bytes failed verification (and may have been removed): sending parts again changes nothing.
  if (scan?.status === 'quarantined') throw conflict('this slide failed verification on the server and is quarantined; de-identify it again and upload it as a new slide');
  // A deferred part's content is only known at its end: finishPart tells duplicate from conflict then.
  if (scan && md.sha256 !== DEFERRED_SHA256) {
    const stored = (await repos.scans.files(labId, scan.id)).find((f) => f.part === md.part);
    if (stored && stored.sha256 !== md.sha256) throw conflict('this part of the slide was already uploaded with different content');
  }
}

export type PartOutcome = 'complete' | 'corrupt' | 'duplicate' | 'conflict';

export interface FinishResult {
  outcome: PartOutcome;
  scan: ScanRow;
  /** True when this part completed the slide and the scan must be ingested. */
  readyForIngest: boolean;
}

/** Scan status from its parts: all stored -> processing; else a corrupt part not yet re-sent -> corrupt. */
async function statusFromParts(repos: Repos, scan: ScanRow): Promise<ScanStatus> {
  const stored = new Set((await repos.scans.files(scan.labId, scan.id)).map((f) => f.part));
  if (stored.size === scan.parts) return 'processing';
  const uploads = await repos.uploads.forSlide(scan.labId, scan.slideId);
  // The latest finished upload of each part decides; a later good upload clears an earlier corrupt one.
  const latest = new Map<number, UploadRow>();
  for (const u of uploads) if (u.status === 'complete' || u.status === 'corrupt') latest.set(u.part, u);
  const corrupt = [...latest.values()].some((u) => u.status === 'corrupt' && !stored.has(u.part));
  return corrupt ? 'corrupt' : 'uploading';
}

/**
 * Record a finished part: its hash was recomputed from the stored bytes (`actualSha256`). Creates the
 * scan when the slide's first part arrives (idempotent per lab + slideId).
 */
export async function finishPart(repos: Repos, storage: Storage, upload: UploadRow, actualSha256: string): Promise<FinishResult> {
  const labId = upload.labId;
  const { scan } = await repos.scans.getOrCreate({
    labId,
    slideId: upload.slideId,
    batchId: upload.batchId,
    status: 'uploading',
    mode: upload.mode,
    parts: upload.parts,
    claimedFormat: upload.format,
    // A slide of named parts is called by its top folder or file (`X` of `X.mrxs` and `X/…`),
    // whichever part arrives first: its filename alone could be `Data0003.dat`.
    originalFilename: upload.partPath ? upload.partPath.split('/')[0]!.replace(/\.[^.]*$/, '') || upload.filename : upload.filename,
    uploadedBy: upload.userId,
    // Issue 14: the name and case the client asked for (every part carries the same values).
    ...(upload.scanName ? { name: upload.scanName } : {}),
    ...(upload.caseNumber ? { caseNumber: upload.caseNumber, createCase: upload.createCase } : {}),
  });

  const existing = (await repos.scans.files(labId, scan.id)).find((f) => f.part === upload.part);
  if (actualSha256 !== upload.sha256) {
    return await repos.transaction(async (tx) => {
      await tx.uploads.finish(labId, upload.id, 'corrupt', scan.id);
      // An already stored good copy of this part keeps the scan as it was.
      if (!existing && (scan.status === 'uploading' || scan.status === 'corrupt')) await tx.scans.setStatus(labId, scan.id, await statusFromParts(tx, scan));
      return { outcome: 'corrupt' as const, scan: (await tx.scans.byId(labId, scan.id))!, readyForIngest: false };
    });
  }
  if (existing) {
    const outcome: PartOutcome = existing.sha256 === actualSha256 ? 'duplicate' : 'conflict';
    await repos.uploads.finish(labId, upload.id, 'duplicate', scan.id);
    return { outcome, scan, readyForIngest: false };
  }

  // A unique name per upload, so two racing uploads of one part never overwrite each other's bytes.
  const path = storage.partPath(labId, scan.id, upload.part, upload.filename).replace(/(part-\d+)/, `$1-${upload.id.slice(0, 12)}`);
  await storage.adopt(upload.id, path);
  const result = await repos.transaction(async (tx): Promise<FinishResult> => {
    // Parts of one slide finishing at once (PostgreSQL runs them in parallel) take turns here, so
    // exactly one of them sees the slide complete.
    await tx.scans.lock(labId, scan.id);
    const again = (await tx.scans.files(labId, scan.id)).find((f) => f.part === upload.part);
    if (again) {
      await tx.uploads.finish(labId, upload.id, 'duplicate', scan.id);
      return { outcome: again.sha256 === actualSha256 ? 'duplicate' : 'conflict', scan, readyForIngest: false };
    }
    await tx.scans.putFile(labId, scan.id, { part: upload.part, path, name: upload.partPath, size: upload.size, sha256: actualSha256, uploadId: upload.id });
    await tx.uploads.finish(labId, upload.id, 'complete', scan.id);
    const current = (await tx.scans.byId(labId, scan.id))!;
    const status = await statusFromParts(tx, current);
    const becomesReady = status === 'processing' && (current.status === 'uploading' || current.status === 'corrupt');
    if (current.status === 'uploading' || current.status === 'corrupt') await tx.scans.setStatus(labId, scan.id, status);
    return { outcome: 'complete', scan: (await tx.scans.byId(labId, scan.id))!, readyForIngest: becomesReady };
  });
  if (result.outcome !== 'complete') await storage.remove(path);
  return result;
}
