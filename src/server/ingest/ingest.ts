import { basename } from 'node:path';
import { openSlide } from '../../engine/open.ts';
import { SlideError, throwIfAborted, toSlideError } from '../../shared/errors.ts';
import type { Slide } from '../../engine/formats/slide-format.ts';
import type { Repos } from '../db/repos/index.ts';
import type { IngestResult, ScanInstance, ScanRow, ScanStatus } from '../db/repos/scans.ts';
import type { Storage } from '../storage.ts';
import type { ClosableByteSource } from '../storage/object-store.ts';
import { isZip } from './dicom-zip.ts';
import { extractZip, removeStaleInstanceDirs, storeInstances, type StoredInstance } from './instance-files.ts';
import { verifyStoredParts } from './verify.ts';
import { storeThumbnail } from './thumbnail.ts';
import { settleCaseLink } from './case-link.ts';

export interface IngestOutcome {
  status: ScanStatus;
  error?: string;
  /** The worklist thumbnail: made, none (no image small enough) or failed with an error code. */
  thumbnail?: string;
}

export interface IngestLimits {
  /** Bound on what a zipped DICOM folder may expand to (zip bombs). */
  maxExtractBytes: number;
  maxExtractEntries: number;
}

/**
 * The viewer's part order for a zip's instances: the engine's own image order (pyramid levels from
 * full resolution down, then thumbnail, label, overview), then any instance the engine did not
 * list, largest first; archive order breaks ties. Stable across reprocessing.
 */
function instanceOrder(files: StoredInstance[], imageParts: number[]): ScanInstance[] {
  const rank = new Map<number, number>();
  for (const p of imageParts) if (!rank.has(p)) rank.set(p, rank.size);
  const order = files.map((f, i) => ({ f, i, r: rank.get(i) ?? Number.MAX_SAFE_INTEGER }));
  order.sort((a, b) => a.r - b.r || b.f.size - a.f.size || a.f.index - b.f.index);
  return order.map(({ f }, part) => ({ part, path: f.key, size: f.size, sha256: f.sha256 }));
}

/** True when a stored object starts as a zip does (a local file header). */
async function storedIsZip(storage: Storage, key: string): Promise<boolean> {
  if (storage.localDisk) return isZip(storage.abs(key));
  const b = await storage.head(key, 4);
  return b.length === 4 && Buffer.from(b.buffer, b.byteOffset, 4).readUInt32LE(0) === 0x04034b50;
}

/** What ingest records for a slide the engine opened. */
function describe(slide: Slide, scan: ScanRow): { result: IngestResult; status: ScanStatus } {
  const levels = slide.images.filter((i) => i.role === 'level').length;
  const mpp = slide.mpp && Number.isFinite(slide.mpp.x) && Number.isFinite(slide.mpp.y) && slide.mpp.x > 0 && slide.mpp.y > 0 ? slide.mpp : null;
  // A user-entered MPP (Regions tab) counts as known.
  const status: ScanStatus = mpp || scan.mppSource === 'user' ? 'ready' : 'needs-mpp';
  return { result: { format: slide.format, width: slide.width, height: slide.height, levels, mpp: mpp && { x: mpp.x, y: mpp.y, source: mpp.source } }, status };
}

/**
 * The worklist's thumbnail, from the slide as stored (after verification, for a de-identified
 * upload), recorded before the scan's status changes so a ready scan shows it. Never fails ingest.
 */
async function thumbnail(repos: Repos, storage: Storage, scan: ScanRow, slide: Slide, signal?: AbortSignal): Promise<string> {
  const t = await storeThumbnail(storage, scan.labId, scan.id, slide, signal);
  await repos.scans.setThumbnail(scan.labId, scan.id, t.made ? t.path : null);
  return t.made ? 'made' : t.reason === 'no-image' ? 'none' : `failed (${t.code ?? 'unknown'})`;
}

/** The outcome of a failed ingest, recorded on the scan (never thrown). */
async function failed(repos: Repos, scan: ScanRow, e: unknown, signal?: AbortSignal): Promise<IngestOutcome> {
  // Shutting down is not the file's fault: leave it 'processing' so the next start retries it.
  if (signal?.aborted) return { status: 'processing' };
  const err = toSlideError(e);
  const message = err.code === 'INTERNAL' ? `could not read the slide: ${err.message}` : err.message;
  await repos.scans.setStatus(scan.labId, scan.id, 'failed', message);
  return { status: 'failed', error: message };
}

/**
 * Open a slide made of extracted DICOM instances and record it, with the instances in viewer
 * order. On failure the scan is 'failed' with the engine's message and its files are left as they
 * were (a reprocess tries again).
 */
async function ingestInstances(repos: Repos, storage: Storage, scan: ScanRow, files: StoredInstance[], note: string | undefined, signal?: AbortSignal): Promise<IngestOutcome> {
  const sources: ClosableByteSource[] = [];
  try {
    for (const f of files) sources.push(await storage.open(f.key, `${scan.originalFilename}/${basename(f.key)}`));
    const slide = await openSlide(sources, signal);
    const { result, status } = describe(slide, scan);
    const instances = instanceOrder(files, slide.images.map((i) => i.part));
    const thumb = await thumbnail(repos, storage, scan, slide, signal);
    const previous = await repos.scans.instances(scan.labId, scan.id);
    await repos.scans.setIngestResult(scan.labId, scan.id, result, status, { instances, ...(note ? { note } : {}) });
    await removeStaleInstanceDirs(storage, scan, instances, previous);
    return { status, thumbnail: thumb };
  } catch (e) {
    return await failed(repos, scan, e, signal);
  } finally {
    await Promise.allSettled(sources.map((s) => s.close()));
  }
}

/**
 * A zipped DICOM folder (Direct Upload): the first slide inside becomes this scan; every further
 * slide becomes a scan of its own, derived from this one (same lab, batch and uploader), so a zip
 * of a whole study imports every slide. Each slide fails alone.
 */
async function ingestZip(repos: Repos, storage: Storage, scan: ScanRow, zipKey: string, limits: IngestLimits, signal?: AbortSignal): Promise<IngestOutcome> {
  const zip = await extractZip(storage, scan, zipKey, limits, signal);
  try {
    const n = zip.slides.length;
    const others: number[] = [];
    for (let k = 1; k < n; k++) {
      throwIfAborted(signal);
      const derived = await repos.scans.derive(scan, k, `${scan.originalFilename} (slide ${k + 1} of ${n})`);
      await repos.scans.setStatus(scan.labId, derived.id, 'processing');
      others.push(derived.id);
      await ingestInstances(repos, storage, derived, (await storeInstances(storage, derived, zip, zip.slides[k]!, false)).files, undefined, signal);
    }
    // Slides a reprocess no longer finds keep their scan (cases may point to it), marked as such.
    for (const gone of (await repos.scans.derived(scan.labId, scan.id)).filter((d) => (d.sourceSlide ?? 0) >= n)) {
      await repos.scans.setStatus(scan.labId, gone.id, 'failed', `the zip of scan ${scan.id} no longer holds this slide`);
    }
    const note = n > 1 ? `the zip holds ${n} slides: this scan is the first; the others are scans ${others.join(', ')}` : undefined;
    const first = await storeInstances(storage, scan, zip, zip.slides[0]!, true);
    const outcome = await ingestInstances(repos, storage, scan, first.files, note, signal);
    if (outcome.status === 'failed') await storage.removePrefix(first.prefix);
    return outcome;
  } finally {
    await zip.cleanup();
  }
}

/**
 * Open a scan's stored parts with the shared engine and record what a viewer and the worklist need.
 * Never throws: a file the engine rejects makes the scan 'failed' with the engine's message.
 * Once settled, the scan — and every slide of its zip — is linked to the case its upload asked for.
 */
export async function ingestScan(repos: Repos, storage: Storage, labId: number, scanId: number, limits: IngestLimits, signal?: AbortSignal): Promise<IngestOutcome> {
  const outcome = await ingestStored(repos, storage, labId, scanId, limits, signal);
  // Interrupted (shutdown): the next start ingests it again and links then.
  if (outcome.status !== 'processing') {
    await settleCaseLink(repos, labId, scanId);
    for (const d of await repos.scans.derived(labId, scanId)) await settleCaseLink(repos, labId, d.id);
  }
  return outcome;
}

async function ingestStored(repos: Repos, storage: Storage, labId: number, scanId: number, limits: IngestLimits, signal?: AbortSignal): Promise<IngestOutcome> {
  const scan = await repos.scans.byId(labId, scanId);
  if (!scan) return { status: 'failed', error: 'scan not found' };
  if (scan.sourceScanId !== null) {
    // A slide of another scan's zip: its instances are already on disk (a reprocess re-reads them).
    const files = (await repos.scans.instances(labId, scanId)).map((i) => ({ key: i.path, size: i.size, sha256: i.sha256, index: i.part }));
    if (files.length === 0) return await failed(repos, scan, new SlideError('NOT_FOUND', `its files are gone: reprocess scan ${scan.sourceScanId}`), signal);
    return ingestInstances(repos, storage, scan, files, undefined, signal);
  }
  const files = await repos.scans.files(labId, scanId);
  const sources: ClosableByteSource[] = [];
  try {
    if (files.length !== scan.parts) throw new Error(`${files.length} of ${scan.parts} parts are stored`);
    if (scan.mode === 'deidentified') {
      // Defence in depth (issue 10): the client verified its output before sending, but the server
      // does not take its word for it. Before anything else reads the bytes, the same output-alone
      // verification runs here; a slide that fails is quarantined and never becomes viewable.
      // Direct Upload is not verified: the user vouched for those bytes as they are.
      const verdict = await verifyStoredParts(repos, storage, scan, files, signal);
      if (verdict.status !== 'verified') return verdict.status === 'aborted' ? { status: 'processing' } : verdict.outcome;
    }
    // The client's file name goes into messages the lab sees; part paths on disk are ours.
    if (files.length === 1 && (await storedIsZip(storage, files[0].path))) return await ingestZip(repos, storage, scan, files[0].path, limits, signal);
    // Parts with a path inside the slide (MIRAX) are opened under it: the driver finds them by name.
    for (const f of files) sources.push(await storage.open(f.path, f.name ?? (scan.parts === 1 ? scan.originalFilename : `${scan.originalFilename} (part ${f.part})`)));
    const slide = await openSlide(sources, signal);
    const { result, status } = describe(slide, scan);
    const thumb = await thumbnail(repos, storage, scan, slide, signal);
    await repos.scans.setIngestResult(labId, scanId, result, status);
    return { status, thumbnail: thumb };
  } catch (e) {
    return await failed(repos, scan, e, signal);
  } finally {
    await Promise.allSettled(sources.map((s) => s.close()));
  }
}
