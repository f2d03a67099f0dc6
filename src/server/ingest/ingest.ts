import { openSlide } from '../../engine/open.ts';
import { NodeFileSource } from '../../engine/io/node/file-source.ts';
import { toSlideError } from '../../shared/errors.ts';
import type { Repos } from '../db/repos/index.ts';
import type { IngestResult, ScanStatus } from '../db/repos/scans.ts';
import type { Storage } from '../storage.ts';
import { extractDicomZip, isZip } from './dicom-zip.ts';

export interface IngestOutcome {
  status: ScanStatus;
  error?: string;
}

/**
 * Open a scan's stored parts with the shared engine and record what a viewer and the worklist need.
 * Never throws: a file the engine rejects makes the scan 'failed' with the engine's message.
 */
export async function ingestScan(repos: Repos, storage: Storage, labId: number, scanId: number, maxExtractBytes: number, signal?: AbortSignal): Promise<IngestOutcome> {
  const scan = repos.scans.byId(labId, scanId);
  if (!scan) return { status: 'failed', error: 'scan not found' };
  const files = repos.scans.files(labId, scanId);
  const sources: NodeFileSource[] = [];
  try {
    if (files.length !== scan.parts) throw new Error(`${files.length} of ${scan.parts} parts are stored`);
    // The client's file name goes into messages the lab sees; part paths on disk are ours.
    if (files.length === 1 && (await isZip(storage.abs(files[0].path)))) {
      // A zipped DICOM folder (Direct Upload): the slide is the DICOM files inside.
      const dir = storage.abs(`${storage.scanDir(labId, scanId)}/extracted`);
      const paths = await extractDicomZip(storage.abs(files[0].path), dir, maxExtractBytes, signal);
      for (const [i, p] of paths.entries()) sources.push(await NodeFileSource.open(p, `${scan.originalFilename} (file ${i + 1})`));
    } else {
      for (const f of files) sources.push(await NodeFileSource.open(storage.abs(f.path), scan.parts === 1 ? scan.originalFilename : `${scan.originalFilename} (part ${f.part})`));
    }
    const slide = await openSlide(sources, signal);
    const levels = slide.images.filter((i) => i.role === 'level').length;
    const mpp = slide.mpp && Number.isFinite(slide.mpp.x) && Number.isFinite(slide.mpp.y) && slide.mpp.x > 0 && slide.mpp.y > 0 ? slide.mpp : null;
    const result: IngestResult = { format: slide.format, width: slide.width, height: slide.height, levels, mpp: mpp && { x: mpp.x, y: mpp.y, source: mpp.source } };
    // A user-entered MPP (Regions tab) counts as known.
    const status: ScanStatus = mpp || scan.mppSource === 'user' ? 'ready' : 'needs-mpp';
    repos.scans.setIngestResult(labId, scanId, result, status);
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
