import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, statfs } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { NodeFileSource } from '../../engine/io/node/file-source.ts';
import { groupDicomInstances } from '../../engine/dicom/group.ts';
import { SlideError } from '../../shared/errors.ts';
import type { ScanInstance, ScanRow } from '../db/repos/scans.ts';
import type { Storage } from '../storage.ts';
import { extractDicomZip, type ExtractedFile } from './dicom-zip.ts';

/**
 * Where a zip's DICOM instances are extracted and stored. Local storage: extracted straight into
 * a fresh folder of the scan (nothing copied twice). S3: the zip is downloaded into a temp folder
 * of the data dir, extracted there, each kept instance PUT under the scan's key, the temp folder
 * removed. Either way a stored instance is known by its key (the path the database records).
 */

/** A stored instance file: its key and what ingest records of it. */
export interface StoredInstance {
  key: string;
  size: number;
  sha256: string;
  /** 1-based position among the archive's DICOM files (archive order). */
  index: number;
}

export interface ZipLimits {
  maxExtractBytes: number;
  maxExtractEntries: number;
}

/** A zip's contents after extraction: the files of each slide, in archive order, on local disk. */
export interface ZipContents {
  /** Local storage: the fresh instance folder of the scan the files were extracted into. */
  dir: string;
  slides: ExtractedFile[][];
  /** Removes the temp folder (S3); a no-op on local storage. */
  cleanup(): Promise<void>;
}

/** Disk space an extraction must leave free, so a big zip cannot starve uploads and the database. */
const reserveBytes = 1024 * 1024 * 1024;

/** A fresh folder name per run: a reprocess never rewrites files a viewer may be reading. */
function freshInstanceName(): string {
  return `instances-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

/**
 * Extract a zipped DICOM folder and group the instances into slides (the engine's own grouping:
 * Study/Series/Container/Pyramid). Files of no slide — DICOM that is not a whole-slide image — are
 * deleted (the original zip is kept).
 */
export async function extractZip(storage: Storage, scan: ScanRow, zipKey: string, limits: ZipLimits, signal?: AbortSignal): Promise<ZipContents> {
  let work: string | undefined;
  let zipPath: string;
  let dir: string;
  if (storage.localDisk) {
    zipPath = storage.abs(zipKey);
    dir = join(storage.abs(storage.scanDir(scan.labId, scan.id)), freshInstanceName());
  } else {
    work = await storage.tempDir();
    zipPath = join(work, 'upload.zip');
    dir = join(work, 'extracted');
    await pipeline(await storage.stream(zipKey), createWriteStream(zipPath), ...(signal ? [{ signal }] : []));
  }
  const cleanup = async () => {
    if (work) await rm(work, { recursive: true, force: true });
  };
  const sources: NodeFileSource[] = [];
  try {
    const fs = await statfs(dirname(dir));
    // The limit is maxExtractBytes (fixed, documented); free disk is only an extra guard, checked
    // against what the zip's DICOM files declare before anything is written.
    const diskBytes = Math.max(0, fs.bavail * fs.bsize - reserveBytes);
    // Errors name the upload's scan, never the archive's paths (lab file names hold accession numbers).
    const options = { label: `scan ${scan.id}`, ...(signal ? { signal } : {}) };
    const extracted = await extractDicomZip(zipPath, dir, { maxBytes: limits.maxExtractBytes, maxEntries: limits.maxExtractEntries, diskBytes }, options);
    const byName = new Map<string, ExtractedFile>();
    for (const f of extracted) {
      // The name sorts in archive order (the engine groups in name order) and says where it came from.
      const name = `${scan.originalFilename}/${basename(f.path)}`;
      sources.push(await NodeFileSource.open(f.path, name));
      byName.set(name, f);
    }
    const grouping = await groupDicomInstances(sources, signal);
    if (grouping.slides.length === 0) {
      throw grouping.rejected[0] ? new SlideError(grouping.rejected[0].code, grouping.rejected[0].message) : new SlideError('NOT_RECOGNIZED', 'the zip holds no whole-slide image');
    }
    const slides = grouping.slides.map((sl) => sl.parts.map((p) => byName.get(p.name)!).sort((a, b) => a.index - b.index));
    const keep = new Set(slides.flat().map((f) => f.path));
    for (const f of extracted) if (!keep.has(f.path)) await rm(f.path, { force: true });
    return { dir, slides, cleanup };
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    await cleanup();
    throw e;
  } finally {
    await Promise.allSettled(sources.map((s) => s.close()));
  }
}

/**
 * Store one slide's extracted files as instances of `scan`, in a fresh folder of that scan.
 * `extractedHere`: local storage extracted them into that scan's folder already (the zip's own
 * first slide): they stay where they are. Returns the folder's key and the stored files.
 */
export async function storeInstances(storage: Storage, scan: ScanRow, zip: ZipContents, files: ExtractedFile[], extractedHere: boolean): Promise<{ prefix: string; files: StoredInstance[] }> {
  const stored = (key: string, f: ExtractedFile): StoredInstance => ({ key, size: f.size, sha256: f.sha256, index: f.index });
  if (storage.localDisk) {
    if (extractedHere) return { prefix: relative(storage.dataDir, zip.dir), files: files.map((f) => stored(relative(storage.dataDir, f.path), f)) };
    // Moved out of the zip's folder into a fresh one of its own scan.
    const dir = join(storage.abs(storage.scanDir(scan.labId, scan.id)), freshInstanceName());
    await mkdir(dir, { recursive: true });
    const moved: StoredInstance[] = [];
    for (const f of files) {
      const path = join(dir, basename(f.path));
      await rename(f.path, path);
      moved.push(stored(relative(storage.dataDir, path), f));
    }
    return { prefix: relative(storage.dataDir, dir), files: moved };
  }
  const prefix = `${storage.scanDir(scan.labId, scan.id)}/${freshInstanceName()}`;
  const put: StoredInstance[] = [];
  for (const f of files) {
    const key = `${prefix}/${basename(f.path)}`;
    await storage.putFile(key, f.path);
    put.push(stored(key, f));
  }
  return { prefix, files: put };
}

/**
 * Remove instance folders of earlier runs that no row points to any more. Local: every such folder
 * of the scan (also ones a crash left); S3 has no folders to list: the ones `previous` rows named.
 */
export async function removeStaleInstanceDirs(storage: Storage, scan: ScanRow, current: ScanInstance[], previous: ScanInstance[]): Promise<void> {
  if (!storage.localDisk) {
    const live = new Set(current.map((i) => dirname(i.path)));
    for (const dir of new Set(previous.map((i) => dirname(i.path)))) if (!live.has(dir) && basename(dir).startsWith('instances-')) await storage.removePrefix(dir);
    return;
  }
  const scanDir = storage.abs(storage.scanDir(scan.labId, scan.id));
  const live = new Set(current.map((i) => dirname(storage.abs(i.path))));
  for (const name of await readdir(scanDir).catch(() => [] as string[])) {
    if ((name.startsWith('instances-') || name === 'extracted') && !live.has(join(scanDir, name))) await rm(join(scanDir, name), { recursive: true, force: true });
  }
}
