import { copyFile, link, mkdir, rm } from 'node:fs/promises';
import { dirname, extname, join, resolve, sep } from 'node:path';

/** Where things live under the data directory. Paths stored in the DB are relative to it. */
export class Storage {
  readonly dataDir: string;
  readonly uploadsDir: string;
  readonly dbFile: string;
  constructor(dataDir: string) {
    this.dataDir = resolve(dataDir);
    this.uploadsDir = join(this.dataDir, 'uploads');
    this.dbFile = join(this.dataDir, 'wsi.sqlite');
  }

  uploadPath(uploadId: string): string {
    return join(this.uploadsDir, uploadId);
  }

  /**
   * Delete what the tus file store keeps of an upload: its bytes and its `<id>.json` record (which
   * holds the Upload-Metadata). A finished part's bytes are hard-linked into the scan's directory,
   * so removing a scan's bytes for good means removing this name too.
   */
  async removeUpload(uploadId: string): Promise<void> {
    const p = this.uploadPath(uploadId);
    if (dirname(p) !== this.uploadsDir) throw new Error('upload id outside the upload directory');
    await rm(p, { force: true });
    await rm(`${p}.json`, { force: true });
  }

  scanDir(labId: number, scanId: number): string {
    return join('scans', String(labId), String(scanId));
  }

  /** Relative path of a stored part; only a safe, short extension of the client's name is kept. */
  partPath(labId: number, scanId: number, part: number, filename: string): string {
    const ext = extname(filename).toLowerCase();
    return join(this.scanDir(labId, scanId), `part-${part}${/^\.[a-z0-9]{1,8}$/.test(ext) ? ext : ''}`);
  }

  /** Absolute path for a DB-relative path, refusing anything that would escape the data dir. */
  abs(relative: string): string {
    const p = resolve(this.dataDir, relative);
    if (p !== this.dataDir && !p.startsWith(this.dataDir + sep)) throw new Error('path outside data directory');
    return p;
  }

  /**
   * Give a finished upload its permanent name. A hard link costs no copy and keeps the scan's bytes
   * even after tus expires or terminates the upload; across file systems we fall back to a copy.
   */
  async adopt(uploadId: string, relativeDest: string): Promise<void> {
    const dest = this.abs(relativeDest);
    await mkdir(dirname(dest), { recursive: true });
    await rm(dest, { force: true });
    try {
      await link(this.uploadPath(uploadId), dest);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EXDEV' && (e as NodeJS.ErrnoException).code !== 'EPERM') throw e;
      await copyFile(this.uploadPath(uploadId), dest);
    }
  }
}
