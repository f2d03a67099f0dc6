import type { Database } from 'better-sqlite3';

export type UploadStatus = 'uploading' | 'complete' | 'corrupt' | 'duplicate' | 'terminated';

export interface UploadRow {
  id: string;
  labId: number;
  userId: number;
  slideId: string;
  batchId: string;
  part: number;
  parts: number;
  filename: string;
  format: string;
  sha256: string;
  mode: 'deidentified' | 'direct';
  size: number;
  status: UploadStatus;
  scanId: number | null;
  createdAt: string;
  finishedAt: string | null;
}

export type NewUpload = Omit<UploadRow, 'status' | 'scanId' | 'createdAt' | 'finishedAt'>;

const cols = `id, lab_id AS labId, user_id AS userId, slide_id AS slideId, batch_id AS batchId, part, parts, filename, format,
  sha256, mode, size, status, scan_id AS scanId, created_at AS createdAt, finished_at AS finishedAt`;

/** One row per tus upload (one part of one slide), bound to the lab and user that created it. */
export class UploadRepo {
  constructor(private readonly db: Database) {}

  create(u: NewUpload): void {
    this.db
      .prepare(
        `INSERT INTO uploads (id, lab_id, user_id, slide_id, batch_id, part, parts, filename, format, sha256, mode, size, status)
         VALUES (@id, @labId, @userId, @slideId, @batchId, @part, @parts, @filename, @format, @sha256, @mode, @size, 'uploading')`,
      )
      .run(u);
  }

  /** Unscoped on purpose: the tus gate needs the owner to decide between 404 and go-ahead. */
  byIdForAccessCheck(id: string): UploadRow | undefined {
    return this.db.prepare(`SELECT ${cols} FROM uploads WHERE id = ?`).get(id) as UploadRow | undefined;
  }

  forSlide(labId: number, slideId: string): UploadRow[] {
    return this.db.prepare(`SELECT ${cols} FROM uploads WHERE lab_id = ? AND slide_id = ? ORDER BY part, created_at, rowid`).all(labId, slideId) as UploadRow[];
  }

  finish(labId: number, id: string, status: Exclude<UploadStatus, 'uploading'>, scanId: number | null): void {
    this.db
      .prepare(`UPDATE uploads SET status = ?, scan_id = ?, finished_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE lab_id = ? AND id = ?`)
      .run(status, scanId, labId, id);
  }

  markTerminated(labId: number, id: string): void {
    this.db.prepare(`UPDATE uploads SET status = 'terminated', finished_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE lab_id = ? AND id = ? AND status = 'uploading'`).run(labId, id);
  }

  /** Unfinished uploads created before `cutoffIso` (all labs: the expiry sweep is global). */
  expireUnfinishedBefore(cutoffIso: string): number {
    return this.db
      .prepare(`UPDATE uploads SET status = 'terminated', finished_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE status = 'uploading' AND created_at < ?`)
      .run(cutoffIso).changes;
  }
}
