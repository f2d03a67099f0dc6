import { readdir, rm, statfs } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { openSlide } from '../../engine/open.ts';
import { NodeFileSource } from '../../engine/io/node/file-source.ts';
import { groupDicomInstances } from '../../engine/dicom/group.ts';
import { SlideError, toSlideError } from '../../shared/errors.ts';
import type { Repos } from '../db/repos/index.ts';
import type { IngestResult, ScanInstance, ScanRow, ScanStatus } from '../db/repos/scans.ts';
import type { Storage } from '../storage.ts';
import { extractDicomZip, isZip, type ExtractedFile } from './dicom-zip.ts';

export interface IngestOutcome {
  status: ScanStatus;
  error?: string;
}

export interface IngestLimits {
  /** Bound on what a zipped DICOM folder may expand to (zip bombs). */
  maxExtractBytes: number;
  maxExtractEntries: number;
}

/** Disk space an extraction must leave free, so a big zip cannot starve uploads and the database. */
const reserveBytes = 1024 * 1024 * 1024;

/** The slide inside a zip: its instances (parallel arrays, archive order). */
interface ZipSlide {
  sources: NodeFileSource[];
  files: ExtractedFile[];
  dir: string;
  note?: string;
}

/**
 * Extract a zipped DICOM folder next to the upload, group the instances into slides (the engine's
 * own grouping: Study/Series/Container/Pyramid) and keep the first slide. Files of other slides,
 * and DICOM that is not a whole-slide image, are deleted (the original zip is kept).
 */
async function extractZipSlide(storage: Storage, scan: ScanRow, zipPath: string, limits: IngestLimits, signal?: AbortSignal): Promise<ZipSlide> {
  const scanDir = storage.abs(storage.scanDir(scan.labId, scan.id));
  // A fresh directory per run: a reprocess never rewrites files a viewer may be reading.
  const dir = join(scanDir, `instances-${Date.now().toString(36)}`);
  const fs = await statfs(scanDir);
  const free = fs.bavail * fs.bsize - reserveBytes;
  const maxBytes = Math.min(limits.maxExtractBytes, free);
  if (maxBytes <= 0) throw new SlideError('QUOTA', 'not enough disk space on the server to unpack the zip');
  const extracted = await extractDicomZip(zipPath, dir, { maxBytes, maxEntries: limits.maxExtractEntries }, signal);
  const sources: NodeFileSource[] = [];
  try {
    const byName = new Map<string, ExtractedFile>();
    for (const f of extracted) {
      // The name sorts in archive order (the engine groups in name order) and says where it came from.
      const name = `${scan.originalFilename}/${basename(f.path)}`;
      sources.push(await NodeFileSource.open(f.path, name));
      byName.set(name, f);
    }
    const grouping = await groupDicomInstances(sources, signal);
    const slide = grouping.slides[0];
    if (!slide) throw grouping.rejected[0] ? new SlideError(grouping.rejected[0].code, grouping.rejected[0].message) : new SlideError('NOT_RECOGNIZED', 'the zip holds no whole-slide image');
    const chosen = slide.parts.map((p) => ({ source: p as NodeFileSource, file: byName.get(p.name)! }));
    chosen.sort((a, b) => a.file.index - b.file.index);
    const keep = new Set(chosen.map((c) => c.file.path));
    for (const s of sources) if (!keep.has(s.path)) await s.close();
    for (const f of extracted) if (!keep.has(f.path)) await rm(f.path, { force: true });
    const n = grouping.slides.length;
    return {
      sources: chosen.map((c) => c.source),
      files: chosen.map((c) => c.file),
      dir,
      ...(n > 1 ? { note: `the zip holds ${n} slides; only the first (${chosen.length} file${chosen.length === 1 ? '' : 's'}) was imported — upload the others separately` } : {}),
    };
  } catch (e) {
    await Promise.allSettled(sources.map((s) => s.close()));
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}

/**
 * The viewer's part order for a zip's instances: the engine's own image order (pyramid levels from
 * full resolution down, then thumbnail, label, overview), then any instance the engine did not
 * list, largest first; archive order breaks ties. Stable across reprocessing.
 */
function instanceOrder(storage: Storage, zip: ZipSlide, imageParts: number[]): ScanInstance[] {
  const rank = new Map<number, number>();
  for (const p of imageParts) if (!rank.has(p)) rank.set(p, rank.size);
  const order = zip.files.map((f, i) => ({ f, i, r: rank.get(i) ?? Number.MAX_SAFE_INTEGER }));
  order.sort((a, b) => a.r - b.r || b.f.size - a.f.size || a.f.index - b.f.index);
  return order.map(({ f }, part) => ({ part, path: relative(storage.dataDir, f.path), size: f.size, sha256: f.sha256 }));
}

/** Remove instance directories of earlier runs that no row points to any more. */
async function removeStaleInstanceDirs(storage: Storage, scan: ScanRow, current: ScanInstance[]): Promise<void> {
  const scanDir = storage.abs(storage.scanDir(scan.labId, scan.id));
  const live = new Set(current.map((i) => dirname(storage.abs(i.path))));
  for (const name of await readdir(scanDir).catch(() => [] as string[])) {
    if ((name.startsWith('instances-') || name === 'extracted') && !live.has(join(scanDir, name))) await rm(join(scanDir, name), { recursive: true, force: true });
  }
}

/**
 * Open a scan's stored parts with the shared engine and record what a viewer and the worklist need.
 * Never throws: a file the engine rejects makes the scan 'failed' with the engine's message.
 */
export async function ingestScan(repos: Repos, storage: Storage, labId: number, scanId: number, limits: IngestLimits, signal?: AbortSignal): Promise<IngestOutcome> {
  const scan = repos.scans.byId(labId, scanId);
  if (!scan) return { status: 'failed', error: 'scan not found' };
  const files = repos.scans.files(labId, scanId);
  let sources: NodeFileSource[] = [];
  try {
    if (files.length !== scan.parts) throw new Error(`${files.length} of ${scan.parts} parts are stored`);
    let zip: ZipSlide | undefined;
    // The client's file name goes into messages the lab sees; part paths on disk are ours.
    if (files.length === 1 && (await isZip(storage.abs(files[0].path)))) {
      // A zipped DICOM folder (Direct Upload): the slide is the DICOM files inside.
      zip = await extractZipSlide(storage, scan, storage.abs(files[0].path), limits, signal);
      sources = zip.sources;
    } else {
      for (const f of files) sources.push(await NodeFileSource.open(storage.abs(f.path), scan.parts === 1 ? scan.originalFilename : `${scan.originalFilename} (part ${f.part})`));
    }
    let slide;
    try {
      slide = await openSlide(sources, signal);
    } catch (e) {
      if (zip) await rm(zip.dir, { recursive: true, force: true });
      throw e;
    }
    const levels = slide.images.filter((i) => i.role === 'level').length;
    const mpp = slide.mpp && Number.isFinite(slide.mpp.x) && Number.isFinite(slide.mpp.y) && slide.mpp.x > 0 && slide.mpp.y > 0 ? slide.mpp : null;
    const result: IngestResult = { format: slide.format, width: slide.width, height: slide.height, levels, mpp: mpp && { x: mpp.x, y: mpp.y, source: mpp.source } };
    // A user-entered MPP (Regions tab) counts as known.
    const status: ScanStatus = mpp || scan.mppSource === 'user' ? 'ready' : 'needs-mpp';
    const instances = zip && instanceOrder(storage, zip, slide.images.map((i) => i.part));
    repos.scans.setIngestResult(labId, scanId, result, status, instances ? { instances, ...(zip?.note ? { note: zip.note } : {}) } : {});
    if (instances) await removeStaleInstanceDirs(storage, scan, instances);
    return { status };
  } catch (e) {
    // Shutting down is not the file's fault: leave it 'processing' so the next start retries it.
    if (signal?.aborted) return { status: 'processing' };
    const err = toSlideError(e);
    const message = err.code === 'INTERNAL' ? `could not read the slide: ${err.message}` : err.message;
    repos.scans.setStatus(labId, scanId, 'failed', message);
    return { status: 'failed', error: message };
  } finally {
    await Promise.allSettled(sources.map((s) => s.close()));
  }
}
