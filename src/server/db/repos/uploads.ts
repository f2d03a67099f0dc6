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
  /** The part's path inside a slide found by name (tus metadata `path`); null for plain parts. */
  partPath: string | null;
  format: string;
  sha256: string;
  mode: 'deidentified' | 'direct';
  size: number;
  status: UploadStatus;
  scanId: number | null;
  /** Identifying fields the user kept (deidentified parts; see tus/metadata.ts), [] when none. */
  keptFields: string[];
  /** What the client asked for the slide (tus metadata scanName, caseNumber, createCase; issue 14). */
  scanName: string | null;
  caseNumber: string | null;
  createCase: boolean;
  createdAt: string;
  finishedAt: string | null;
}

export type NewUpload = Omit<UploadRow, 'status' | 'scanId' | 'createdAt' | 'finishedAt' | 'keptFields' | 'partPath' | 'scanName' | 'caseNumber' | 'createCase'> & {
  keptFields?: string[];
  partPath?: string;
  scanName?: string;
  caseNumber?: string;
  createCase?: boolean;
};

const cols = `id, lab_id AS labId, user_id AS userId, slide_id AS slideId, batch_id AS batchId, part, parts, filename, part_path AS partPath, format,
  sha256, mode, size, status, scan_id AS scanId, kept_fields AS keptFields, scan_name AS scanName, case_number AS caseNumber, create_case AS createCase,
  created_at AS createdAt, finished_at AS finishedAt`;

/** A row as SQLite returns it: kept_fields is a JSON array of ids. */
type RawUploadRow = Omit<UploadRow, 'keptFields' | 'createCase'> & { keptFields: string; createCase: number };

function toRow(r: RawUploadRow | undefined): UploadRow | undefined {
  return r && { ...r, keptFields: JSON.parse(r.keptFields) as string[], createCase: r.createCase === 1 };
}

/** One row per tus upload (one part of one slide), bound to the lab and user that created it. */
export class UploadRepo {
  constructor(private readonly db: Database) {}

  create(u: NewUpload): void {
    this.db
      .prepare(
        `INSERT INTO uploads (id, lab_id, user_id, slide_id, batch_id, part, parts, filename, part_path, format, sha256, mode, size, kept_fields, scan_name, case_number, create_case, status)
         VALUES (@id, @labId, @userId, @slideId, @batchId, @part, @parts, @filename, @partPath, @format, @sha256, @mode, @size, @keptFields, @scanName, @caseNumber, @createCase, 'uploading')`,
      )
      .run({
        id: u.id, labId: u.labId, userId: u.userId, slideId: u.slideId, batchId: u.batchId, part: u.part, parts: u.parts, filename: u.filename, partPath: u.partPath ?? null,
        format: u.format, sha256: u.sha256, mode: u.mode, size: u.size, keptFields: JSON.stringify(u.keptFields ?? []),
        scanName: u.scanName ?? null, caseNumber: u.caseNumber ?? null, createCase: u.caseNumber && u.createCase ? 1 : 0,
      });
  }

  /** Unscoped on purpose: the tus gate needs the owner to decide between 404 and go-ahead. */
  byIdForAccessCheck(id: string): UploadRow | undefined {
    return toRow(this.db.prepare(`SELECT ${cols} FROM uploads WHERE id = ?`).get(id) as RawUploadRow | undefined);
  }

  forSlide(labId: number, slideId: string): UploadRow[] {
    return (this.db.prepare(`SELECT ${cols} FROM uploads WHERE lab_id = ? AND slide_id = ? ORDER BY part, created_at, rowid`).all(labId, slideId) as RawUploadRow[]).map((r) => toRow(r)!);
  }

  /**
   * The identifying fields the user kept in the stored parts of a scan: the union over the uploads
   * whose bytes the scan holds (a part sent twice counts once, by the copy that was stored).
   */
  keptFieldsOfScan(labId: number, scanId: number): string[] {
    const rows = this.db
      .prepare(
        `SELECT u.kept_fields AS keptFields FROM scan_files f JOIN uploads u ON u.id = f.upload_id JOIN scans s ON s.id = f.scan_id
         WHERE s.lab_id = ? AND f.scan_id = ? AND u.lab_id = s.lab_id`,
      )
      .all(labId, scanId) as { keptFields: string }[];
    return [...new Set(rows.flatMap((r) => JSON.parse(r.keptFields) as string[]))];
  }

  finish(labId: number, id: string, status: Exclude<UploadStatus, 'uploading'>, scanId: number | null): void {
    this.db
      .prepare(`UPDATE uploads SET status = ?, scan_id = ?, finished_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE lab_id = ? AND id = ?`)
      .run(status, scanId, labId, id);
  }

  /**
   * The digest a deferred upload announced with its last bytes (tus/deferred-digest.ts): kept, so
   * a finish that failed and is re-run by a HEAD compares against it too.
   */
  setAnnouncedSha256(labId: number, id: string, sha256: string): void {
    this.db.prepare(`UPDATE uploads SET sha256 = ? WHERE lab_id = ? AND id = ? AND status = 'uploading'`).run(sha256, labId, id);
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
