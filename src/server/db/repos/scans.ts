import type { Database } from 'better-sqlite3';

/**
 * 'quarantined': a `deidentified` upload whose stored bytes failed the server's verification. Its
 * bytes are never served; a lab admin may remove them (the row stays, for the record).
 */
export type ScanStatus = 'uploading' | 'corrupt' | 'processing' | 'ready' | 'needs-mpp' | 'failed' | 'quarantined';
export const scanStatuses: readonly ScanStatus[] = ['uploading', 'corrupt', 'processing', 'ready', 'needs-mpp', 'failed', 'quarantined'];

export interface ScanRow {
  id: number;
  labId: number;
  slideId: string;
  batchId: string;
  status: ScanStatus;
  mode: 'deidentified' | 'direct';
  parts: number;
  claimedFormat: string;
  format: string | null;
  width: number | null;
  height: number | null;
  levels: number | null;
  mppX: number | null;
  mppY: number | null;
  mppSource: string | null;
  originalFilename: string;
  totalBytes: number;
  /** Files extracted at ingest (zipped DICOM): when > 0, these are the parts a viewer opens. */
  instanceCount: number;
  /** Set for slide `sourceSlide` (>= 1) of a multi-slide zip uploaded as scan `sourceScanId`. */
  sourceScanId: number | null;
  sourceSlide: number | null;
  error: string | null;
  uploadedBy: number | null;
  uploadedByName: string | null;
  /** JSON array of the problems the server's verification found (words, never values); null = none. */
  verifyProblemsJson: string | null;
  /** Set when a lab admin removed a quarantined scan's bytes. */
  filesRemovedAt: string | null;
  filesRemovedBy: number | null;
  filesRemovedByName: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface ScanFile {
  part: number;
  path: string;
  /** The part's path inside a slide found by name (MIRAX `X/Slidedat.ini`); null/absent for plain parts. */
  name?: string | null;
  size: number;
  sha256: string;
  uploadId: string;
}

/** A file derived from the upload at ingest; `part` is its place in the viewer's list. */
export interface ScanInstance {
  part: number;
  path: string;
  size: number;
  sha256: string;
}

export interface NewScan {
  labId: number;
  slideId: string;
  batchId: string;
  status: ScanStatus;
  mode: 'deidentified' | 'direct';
  parts: number;
  claimedFormat: string;
  originalFilename: string;
  uploadedBy: number;
}

export interface IngestResult {
  format: string;
  width: number;
  height: number;
  levels: number;
  mpp: { x: number; y: number; source: string } | null;
}

export interface ScanFilter {
  status?: ScanStatus;
  unassigned?: boolean;
  q?: string;
  limit: number;
  offset: number;
}

const cols = `s.id, s.lab_id AS labId, s.slide_id AS slideId, s.batch_id AS batchId, s.status, s.mode, s.parts,
  s.claimed_format AS claimedFormat, s.format, s.width, s.height, s.levels, s.mpp_x AS mppX, s.mpp_y AS mppY,
  s.mpp_source AS mppSource, s.original_filename AS originalFilename, s.total_bytes AS totalBytes,
  (SELECT count(*) FROM scan_instances i WHERE i.scan_id = s.id) AS instanceCount, s.error,
  s.source_scan_id AS sourceScanId, s.source_slide AS sourceSlide,
  s.uploaded_by AS uploadedBy, u.username AS uploadedByName, s.verify_problems AS verifyProblemsJson,
  s.files_removed_at AS filesRemovedAt, s.files_removed_by AS filesRemovedBy, r.username AS filesRemovedByName,
  s.created_at AS createdAt, s.updated_at AS updatedAt`;
const from = 'FROM scans s LEFT JOIN users u ON u.id = s.uploaded_by LEFT JOIN users r ON r.id = s.files_removed_by';
const now = `strftime('%Y-%m-%dT%H:%M:%fZ','now')`;

/** LIKE with the user's text taken literally. */
export function likePattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Scans; every query takes the lab. */
export class ScanRepo {
  constructor(private readonly db: Database) {}

  /** Idempotent by (lab, slideId): returns the existing scan when the slide is already known. */
  getOrCreate(s: NewScan): { scan: ScanRow; created: boolean } {
    const existing = this.bySlideId(s.labId, s.slideId);
    if (existing) return { scan: existing, created: false };
    const r = this.db
      .prepare(
        `INSERT INTO scans (lab_id, slide_id, batch_id, status, mode, parts, claimed_format, original_filename, uploaded_by)
         VALUES (@labId, @slideId, @batchId, @status, @mode, @parts, @claimedFormat, @originalFilename, @uploadedBy)`,
      )
      .run(s);
    return { scan: this.byId(s.labId, Number(r.lastInsertRowid))!, created: true };
  }

  /**
   * The scan of slide `slide` (>= 1) of `source`'s zip, created on first use (same lab, batch,
   * uploader and mode; no uploaded parts of its own). Idempotent, so reprocessing the zip keeps
   * the ids, cases and MPP fixes of the slides it already imported.
   */
  derive(source: ScanRow, slide: number, originalFilename: string): ScanRow {
    const existing = this.db.prepare(`SELECT ${cols} ${from} WHERE s.lab_id = ? AND s.source_scan_id = ? AND s.source_slide = ?`).get(source.labId, source.id, slide) as ScanRow | undefined;
    if (existing) return existing;
    const r = this.db
      .prepare(
        `INSERT INTO scans (lab_id, slide_id, batch_id, status, mode, parts, claimed_format, original_filename, uploaded_by, source_scan_id, source_slide)
         VALUES (?, ?, ?, 'processing', ?, 0, 'dicom-wsi', ?, ?, ?, ?)`,
      )
      .run(source.labId, `${source.slideId}/${slide}`, source.batchId, source.mode, originalFilename, source.uploadedBy, source.id, slide);
    return this.byId(source.labId, Number(r.lastInsertRowid))!;
  }

  /** Scans derived from `sourceId`'s upload, by slide. */
  derived(labId: number, sourceId: number): ScanRow[] {
    return this.db.prepare(`SELECT ${cols} ${from} WHERE s.lab_id = ? AND s.source_scan_id = ? ORDER BY s.source_slide`).all(labId, sourceId) as ScanRow[];
  }

  byId(labId: number, id: number): ScanRow | undefined {
    return this.db.prepare(`SELECT ${cols} ${from} WHERE s.lab_id = ? AND s.id = ?`).get(labId, id) as ScanRow | undefined;
  }

  bySlideId(labId: number, slideId: string): ScanRow | undefined {
    return this.db.prepare(`SELECT ${cols} ${from} WHERE s.lab_id = ? AND s.slide_id = ?`).get(labId, slideId) as ScanRow | undefined;
  }

  list(labId: number, f: ScanFilter): { scans: ScanRow[]; total: number } {
    const where = ['s.lab_id = @labId'];
    const params: Record<string, unknown> = { labId, limit: f.limit, offset: f.offset };
    if (f.status) {
      where.push('s.status = @status');
      params.status = f.status;
    }
    if (f.unassigned) where.push('NOT EXISTS (SELECT 1 FROM case_scans cs WHERE cs.scan_id = s.id AND cs.lab_id = s.lab_id)');
    if (f.q) {
      where.push(
        `(s.original_filename LIKE @q ESCAPE '\\' OR s.slide_id LIKE @q ESCAPE '\\' OR EXISTS (
           SELECT 1 FROM case_scans cs JOIN cases c ON c.id = cs.case_id
           WHERE cs.scan_id = s.id AND c.lab_id = s.lab_id AND c.case_number LIKE @q ESCAPE '\\'))`,
      );
      params.q = likePattern(f.q);
    }
    const w = where.join(' AND ');
    const total = (this.db.prepare(`SELECT count(*) AS n FROM scans s WHERE ${w}`).get(params) as { n: number }).n;
    const scans = this.db.prepare(`SELECT ${cols} ${from} WHERE ${w} ORDER BY s.created_at DESC, s.id DESC LIMIT @limit OFFSET @offset`).all(params) as ScanRow[];
    return { scans, total };
  }

  /** Scans stuck in 'processing' (e.g. after a crash), for the ingest queue to pick up again. */
  processing(): { labId: number; id: number }[] {
    return this.db.prepare(`SELECT lab_id AS labId, id FROM scans WHERE status = 'processing' ORDER BY id`).all() as { labId: number; id: number }[];
  }

  setStatus(labId: number, id: number, status: ScanStatus, error: string | null = null): void {
    this.db.prepare(`UPDATE scans SET status = ?, error = ?, updated_at = ${now} WHERE lab_id = ? AND id = ?`).run(status, error, labId, id);
  }

  /**
   * A deidentified upload failed the server's verification: quarantined with the problems found
   * (words only) and a summary where errors go, so every list shows why.
   */
  quarantine(labId: number, id: number, problems: string[], summary: string): void {
    this.db
      .prepare(`UPDATE scans SET status = 'quarantined', error = ?, verify_problems = ?, updated_at = ${now} WHERE lab_id = ? AND id = ?`)
      .run(summary, JSON.stringify(problems), labId, id);
  }

  /** Verification passed (again): whatever an earlier run found no longer applies. */
  clearVerifyProblems(labId: number, id: number): void {
    this.db.prepare('UPDATE scans SET verify_problems = NULL WHERE lab_id = ? AND id = ?').run(labId, id);
  }

  /**
   * Record that a lab admin removed a quarantined scan's bytes. The status stays 'quarantined' and
   * the stored parts' rows stay (their sizes and hashes say what was removed); only the size the
   * scan occupies drops to 0. Returns false when the scan is not (or no longer) quarantined.
   */
  markFilesRemoved(labId: number, id: number, userId: number, note: string): boolean {
    return (
      this.db
        .prepare(
          `UPDATE scans SET files_removed_at = ${now}, files_removed_by = ?, total_bytes = 0, error = ?, updated_at = ${now}
           WHERE lab_id = ? AND id = ? AND status = 'quarantined'`,
        )
        .run(userId, note, labId, id).changes === 1
    );
  }

  setUserMpp(labId: number, id: number, x: number, y: number): void {
    this.db.prepare(`UPDATE scans SET mpp_x = ?, mpp_y = ?, mpp_source = 'user', updated_at = ${now} WHERE lab_id = ? AND id = ?`).run(x, y, labId, id);
  }

  /**
   * Store what ingest found. A user-entered MPP wins over the file's (the user corrected it).
   * `instances`, when given, replace the scan's derived files; `note` (e.g. "the zip holds 3
   * slides…") goes where errors go, so the lab sees it.
   */
  setIngestResult(labId: number, id: number, r: IngestResult, status: ScanStatus, extra: { instances?: ScanInstance[]; note?: string } = {}): void {
    this.db.transaction(() => {
      this.db
        .prepare(`UPDATE scans SET format = ?, width = ?, height = ?, levels = ?, status = ?, error = ?, updated_at = ${now} WHERE lab_id = ? AND id = ?`)
        .run(r.format, r.width, r.height, r.levels, status, extra.note ?? null, labId, id);
      if (extra.instances) {
        this.db.prepare('DELETE FROM scan_instances WHERE scan_id = ?').run(id);
        const put = this.db.prepare('INSERT INTO scan_instances (scan_id, part, path, size, sha256) VALUES (?, ?, ?, ?, ?)');
        for (const f of extra.instances) put.run(id, f.part, f.path, f.size, f.sha256);
        // A scan derived from another's zip has no upload of its own: its size is its instances'.
        this.db
          .prepare('UPDATE scans SET total_bytes = (SELECT coalesce(sum(size), 0) FROM scan_instances WHERE scan_id = ?) WHERE lab_id = ? AND id = ? AND source_scan_id IS NOT NULL')
          .run(id, labId, id);
      }
      if (r.mpp) {
        this.db
          .prepare(`UPDATE scans SET mpp_x = ?, mpp_y = ?, mpp_source = ? WHERE lab_id = ? AND id = ? AND (mpp_source IS NULL OR mpp_source <> 'user')`)
          .run(r.mpp.x, r.mpp.y, r.mpp.source, labId, id);
      }
    })();
  }

  files(labId: number, id: number): ScanFile[] {
    return this.db
      .prepare(
        `SELECT f.part, f.path, f.name, f.size, f.sha256, f.upload_id AS uploadId FROM scan_files f JOIN scans s ON s.id = f.scan_id
         WHERE s.lab_id = ? AND f.scan_id = ? ORDER BY f.part`,
      )
      .all(labId, id) as ScanFile[];
  }

  /** Files derived at ingest (zipped DICOM instances), by part; empty for scans viewed as uploaded. */
  instances(labId: number, id: number): ScanInstance[] {
    return this.db
      .prepare(
        `SELECT i.part, i.path, i.size, i.sha256 FROM scan_instances i JOIN scans s ON s.id = i.scan_id
         WHERE s.lab_id = ? AND i.scan_id = ? ORDER BY i.part`,
      )
      .all(labId, id) as ScanInstance[];
  }

  /** Record a stored part (replacing an earlier copy of the same part) and keep total_bytes in step. */
  putFile(labId: number, id: number, f: ScanFile): void {
    this.db.transaction(() => {
      if (!this.byId(labId, id)) throw new Error('scan not in lab');
      this.db
        .prepare(
          `INSERT INTO scan_files (scan_id, part, path, name, size, sha256, upload_id) VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (scan_id, part) DO UPDATE SET path = excluded.path, name = excluded.name, size = excluded.size, sha256 = excluded.sha256, upload_id = excluded.upload_id`,
        )
        .run(id, f.part, f.path, f.name ?? null, f.size, f.sha256, f.uploadId);
      this.db
        .prepare(`UPDATE scans SET total_bytes = (SELECT coalesce(sum(size), 0) FROM scan_files WHERE scan_id = ?), updated_at = ${now} WHERE lab_id = ? AND id = ?`)
        .run(id, labId, id);
    })();
  }

  casesOf(labId: number, scanIds: number[]): Map<number, { id: number; caseNumber: string }[]> {
    const out = new Map<number, { id: number; caseNumber: string }[]>();
    if (scanIds.length === 0) return out;
    const rows = this.db
      .prepare(
        `SELECT cs.scan_id AS scanId, c.id, c.case_number AS caseNumber FROM case_scans cs JOIN cases c ON c.id = cs.case_id
         WHERE cs.lab_id = ? AND cs.scan_id IN (SELECT value FROM json_each(?)) ORDER BY c.case_number`,
      )
      .all(labId, JSON.stringify(scanIds)) as { scanId: number; id: number; caseNumber: string }[];
    for (const r of rows) {
      const list = out.get(r.scanId) ?? [];
      list.push({ id: r.id, caseNumber: r.caseNumber });
      out.set(r.scanId, list);
    }
    return out;
  }
}
