import { basename } from 'node:path';
import { openSlide } from '../../engine/open.ts';
import { toSlideError } from '../../shared/errors.ts';
import type { Repos } from '../db/repos/index.ts';
import type { ScanRow, ScanStatus } from '../db/repos/scans.ts';
import type { Storage } from '../storage.ts';
import type { ClosableByteSource } from '../storage/object-store.ts';

/** What a scan would be after a reprocess with a given MPP; nothing of it is stored. */
export interface ReprocessPreview {
  status: ScanStatus;
  format: string | null;
  width: number | null;
  height: number | null;
  levels: number | null;
  mpp: { x: number; y: number; source: string | null } | null;
  /** Physical size of the scanned area, from width/height and the MPP. */
  widthMm: number | null;
  heightMm: number | null;
  error?: string;
}

/**
 * A dry-run reprocess (the Regions tab's "Reprocess" before "Save"): open the scan's stored files
 * the way ingest does, with `mpp` standing in for the scan's MPP, and report the outcome without
 * writing anything. Only for scans that passed ingest (ready / needs MPP): their bytes were
 * verified, and a zip's instances are already extracted.
 */
export async function previewReprocess(repos: Repos, storage: Storage, scan: ScanRow, mpp: { x: number; y: number } | undefined, signal?: AbortSignal): Promise<ReprocessPreview> {
  const instances = await repos.scans.instances(scan.labId, scan.id);
  const files = instances.length > 0
    ? instances.map((f) => ({ path: f.path, name: `${scan.originalFilename}/${basename(f.path)}` }))
    : (await repos.scans.files(scan.labId, scan.id)).map((f) => ({ path: f.path, name: f.name ?? (scan.parts === 1 ? scan.originalFilename : `${scan.originalFilename} (part ${f.part})`) }));
  const sources: ClosableByteSource[] = [];
  try {
    for (const f of files) sources.push(await storage.open(f.path, f.name));
    const slide = await openSlide(sources, signal);
    const fileMpp = slide.mpp && Number.isFinite(slide.mpp.x) && Number.isFinite(slide.mpp.y) && slide.mpp.x > 0 && slide.mpp.y > 0 ? slide.mpp : null;
    // The entered MPP, else the one already stored by the user, else the file's (as ingest decides).
    const userMpp = mpp ?? (scan.mppSource === 'user' && scan.mppX !== null && scan.mppY !== null ? { x: scan.mppX, y: scan.mppY } : null);
    const used = userMpp ? { ...userMpp, source: 'user' } : fileMpp ? { x: fileMpp.x, y: fileMpp.y, source: fileMpp.source ?? null } : null;
    const mm = (px: number, um: number | undefined) => (um ? (px * um) / 1000 : null);
    return {
      status: used ? 'ready' : 'needs-mpp',
      format: slide.format,
      width: slide.width,
      height: slide.height,
      levels: slide.images.filter((i) => i.role === 'level').length,
      mpp: used,
      widthMm: mm(slide.width, used?.x),
      heightMm: mm(slide.height, used?.y),
    };
  } catch (e) {
    // The engine's message names the file by the scan's name, never by a path on disk.
    return { status: 'failed', format: null, width: null, height: null, levels: null, mpp: null, widthMm: null, heightMm: null, error: toSlideError(e).message };
  } finally {
    await Promise.allSettled(sources.map((s) => s.close()));
  }
}
