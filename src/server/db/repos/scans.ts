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
  /** What the lab calls the scan: the upload's name (see defaultScanName) until someone renames it. */
  name: string;
  /** The thumbnail made at ingest, relative to the data dir; null = none (yet, or it could not be made). */
  thumbnailPath: string | null;
  /** 1-based place of the scan in its upload batch (by arrival), and the batch's size and start. */
  batchPosition: number;
  batchSize: number;
  batchCreatedAt: string;
  /** The case the upload asked to be linked to (tus metadata caseNumber), null = none. */
  caseNumber: string | null;
  /** The upload allowed creating that case when the lab has none with its number. */
  createCase: number;
  /** What linking made of it once ingest settled; null = nothing asked, or not settled yet. */
  caseLinkState: CaseLinkState | null;
  createdAt: string;
  updatedAt: string;
}

export type CaseLinkState = 'linked' | 'created' | 'not-found' | 'not-linked';

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
  /** The display name the upload asked for (tus metadata scanName); else defaultScanName. */
  name?: string;
  caseNumber?: string;
  createCase?: boolean;
}

export interface IngestResult {
  format: string;
  width: number;
  height: number;
  levels: number;
  mpp: { x: number; y: number; source: string } | null;
}

export type ScanSort = 'date' | 'name' | 'status';
export const scanSorts: readonly ScanSort[] = ['date', 'name', 'status'];

export interface ScanFilter {
  /** Any of these statuses (empty or absent: all). */
  statuses?: ScanStatus[];
  /** Only scans linked to no case. */
  unassigned?: boolean;
  batchId?: string;
  uploadedBy?: number;
  /** created_at >= from and < to (ISO timestamps; the route turns dates into these). */
  from?: string;
  to?: string;
  /** The engine's format once ingested, else the one the upload claimed. */
  format?: string;
  /** Part of the name, the uploaded file name or a linked case's number. */
  q?: string;
  sort?: ScanSort;
  dir?: 'asc' | 'desc';
  limit: number;
  offset: number;
}

/** An upload batch as the worklist's filter lists it. */
export interface BatchSummary {
  batchId: string;
  createdAt: string;
  scans: number;
  uploadedBy: { id: number; username: string | null } | null;
}

/** The names every de-identified DICOM slide is uploaded under (engine/dicom/plan.ts): no use to tell slides apart. */
const generatedDicomName = /^(level-\d+|thumbnail|label|overview)(-part\d+)?\.dcm$/i;

/** The display name a new scan gets: the name its upload gave it, or a neutral one for DICOM's generated names. */
export function defaultScanName(originalFilename: string, slideId: string): string {
  return generatedDicomName.test(originalFilename) ? `slide-${slideId.slice(0, 8)}` : originalFilename;
}

const cols = `s.id, s.lab_id AS labId, s.slide_id AS slideId, s.batch_id AS batchId, s.status, s.mode, s.parts,
  s.claimed_format AS claimedFormat, s.format, s.width, s.height, s.levels, s.mpp_x AS mppX, s.mpp_y AS mppY,
  s.mpp_source AS mppSource, s.original_filename AS originalFilename, s.total_bytes AS totalBytes,
  (SELECT count(*) FROM scan_instances i WHERE i.scan_id = s.id) AS instanceCount, s.error,
  s.source_scan_id AS sourceScanId, s.source_slide AS sourceSlide,
  s.uploaded_by AS uploadedBy, u.username AS uploadedByName, s.verify_problems AS verifyProblemsJson,
  s.files_removed_at AS filesRemovedAt, s.files_removed_by AS filesRemovedBy, r.username AS filesRemovedByName,
  s.name, s.thumbnail_path AS thumbnailPath,
  (SELECT count(*) FROM scans b WHERE b.lab_id = s.lab_id AND b.batch_id = s.batch_id AND b.id <= s.id) AS batchPosition,
  (SELECT count(*) FROM scans b WHERE b.lab_id = s.lab_id AND b.batch_id = s.batch_id) AS batchSize,
  (SELECT b.created_at FROM scans b WHERE b.lab_id = s.lab_id AND b.batch_id = s.batch_id ORDER BY b.id LIMIT 1) AS batchCreatedAt,
  s.case_number AS caseNumber, s.create_case AS createCase, s.case_link_state AS caseLinkState,
  s.created_at AS createdAt, s.updated_at AS updatedAt`;
const from = 'FROM scans s LEFT JOIN users u ON u.id = s.uploaded_by LEFT JOIN users r ON r.id = s.files_removed_by';
const now = `strftime('%Y-%m-%dT%H:%M:%fZ','now')`;

/** How far past the requested page the worklist counts matching scans (see list()). */
export const COUNT_AHEAD = 10000;

/** Up to this many matching scans, a page is found by sorting the matches (worklistSql's idsOfFew). */
export const FEW_MATCHES = 2000;

/** LIKE with the user's text taken literally. */
export function likePattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * The worklist's two queries for one request: how many scans match (up to `cap`) and the page's
 * ids. Apart from list(), used by test/server/scans-query-plan.test.ts to check with EXPLAIN
 * QUERY PLAN that every filter shape stays an index walk.
 */
export function worklistSql(labId: number, f: ScanFilter): { count: string; ids: string; idsOfFew: string; params: Record<string, unknown>; cap: number } {
  const where = ['s.lab_id = @labId'];
  const params: Record<string, unknown> = { labId, limit: f.limit, offset: f.offset };
  if (f.statuses && f.statuses.length > 0) {
    where.push(`s.status IN (${f.statuses.map((_, i) => `@status${i}`).join(', ')})`);
    f.statuses.forEach((st, i) => (params[`status${i}`] = st));
  }
  // The flag the case_scans triggers keep (migration "not in a case"); spelled as the partial
  // indexes' WHERE is, so SQLite may use them.
  if (f.unassigned) where.push('s.in_case = 0');
  if (f.batchId) {
    where.push('s.batch_id = @batchId');
    params.batchId = f.batchId;
  }
  if (f.uploadedBy !== undefined) {
    where.push('s.uploaded_by = @uploadedBy');
    params.uploadedBy = f.uploadedBy;
  }
  if (f.from) {
    where.push('s.created_at >= @from');
    params.from = f.from;
  }
  if (f.to) {
    where.push('s.created_at < @to');
    params.to = f.to;
  }
  if (f.format) {
    // Spelled as the index is, so SQLite uses it.
    where.push('coalesce(s.format, s.claimed_format) = @format');
    params.format = f.format;
  }
  if (f.q) {
    // Names through their trigram index (migration of issue 13); a text shorter than a trigram
    // falls back to reading every row. Case numbers: cases are few next to scans, so their
    // matching numbers are found once, not per scan.
    const names = f.q.length >= 3
      ? 's.id IN (SELECT rowid FROM scans_search WHERE scans_search MATCH @phrase)'
      : `(s.name LIKE @q ESCAPE '\\' OR s.original_filename LIKE @q ESCAPE '\\' OR s.slide_id LIKE @q ESCAPE '\\')`;
    where.push(
      `(${names} OR s.id IN (
         SELECT cs.scan_id FROM cases c JOIN case_scans cs ON cs.case_id = c.id
         WHERE c.lab_id = @labId AND c.case_number LIKE @q ESCAPE '\\'))`,
    );
    params.q = likePattern(f.q);
    // One FTS5 phrase: the text taken literally (its quotes doubled), matched as a substring.
    if (f.q.length >= 3) params.phrase = `"${f.q.replace(/"/g, '""')}"`;
  }
  const dir = f.dir === 'asc' ? 'ASC' : 'DESC';
  // `+` makes a term an expression no index is sorted by: see idsOfFew.
  const order = (p: '' | '+') => f.sort === 'name' ? `${p}s.name COLLATE NOCASE ${dir}, ${p}s.id ${dir}`
    : f.sort === 'status' ? `${p}s.status ${dir}, ${p}s.created_at ${dir}, ${p}s.id ${dir}`
    : `${p}s.created_at ${dir}, ${p}s.id ${dir}`;
  const w = where.join(' AND ');
  // Counted up to COUNT_AHEAD scans past the page, not to the end: with 100,000 scans an exact
  // count of a filter the index cannot answer alone reads every matching entry, the page only its
  // own. Past the cap the total is a lower bound, flagged as such (`exact: false`), and the app
  // says "more than".
  const cap = f.offset + f.limit + COUNT_AHEAD;
  params.cap = cap;
  return {
    count: `SELECT count(*) AS n FROM (SELECT 1 FROM scans s WHERE ${w} LIMIT @cap)`,
    ids: `SELECT s.id FROM scans s WHERE ${w} ORDER BY ${order('')} LIMIT @limit OFFSET @offset`,
    // When few scans match, walking the sort's index until a page is found can read every scan
    // of the lab (a rare combination of filters sorted by name: 100,000 rows for 0 hits);
    // finding the matches through the filters' index and sorting them is then the cheap way.
    idsOfFew: `SELECT s.id FROM scans s WHERE ${w} ORDER BY ${order('+')} LIMIT @limit OFFSET @offset`,
    params,
    cap,
  };
}

/** Scans; every query takes the lab. */
export class ScanRepo {
  constructor(private readonly db: Database) {}

  /** Idempotent by (lab, slideId): returns the existing scan when the slide is already known. */
  getOrCreate(s: NewScan): { scan: ScanRow; created: boolean } {
    const existing = this.bySlideId(s.labId, s.slideId);
    if (existing) return { scan: existing, created: false };
    const id = this.db.transaction(() => {
      // Every scan's batch has its record (normally made when the batch's first upload was created).
      this.db.prepare(`INSERT OR IGNORE INTO batches (lab_id, id, client, created_by) VALUES (?, ?, 'web', ?)`).run(s.labId, s.batchId, s.uploadedBy);
      const r = this.db
        .prepare(
          `INSERT INTO scans (lab_id, slide_id, batch_id, status, mode, parts, claimed_format, original_filename, uploaded_by, name, case_number, create_case)
           VALUES (@labId, @slideId, @batchId, @status, @mode, @parts, @claimedFormat, @originalFilename, @uploadedBy, @name, @caseNumber, @createCase)`,
        )
        .run({
          labId: s.labId, slideId: s.slideId, batchId: s.batchId, status: s.status, mode: s.mode, parts: s.parts, claimedFormat: s.claimedFormat,
          originalFilename: s.originalFilename, uploadedBy: s.uploadedBy,
          name: s.name ?? defaultScanName(s.originalFilename, s.slideId),
          caseNumber: s.caseNumber ?? null,
          createCase: s.caseNumber && s.createCase ? 1 : 0,
        });
      return Number(r.lastInsertRowid);
    })();
    return { scan: this.byId(s.labId, id)!, created: true };
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
        `INSERT INTO scans (lab_id, slide_id, batch_id, status, mode, parts, claimed_format, original_filename, uploaded_by, source_scan_id, source_slide, name, case_number, create_case)
         VALUES (?, ?, ?, 'processing', ?, 0, 'dicom-wsi', ?, ?, ?, ?, ?, ?, ?)`,
      )
      // The upload's case goes to every slide of the zip (they come from the same folder).
      .run(source.labId, `${source.slideId}/${slide}`, source.batchId, source.mode, originalFilename, source.uploadedBy, source.id, slide, `${source.name} (slide ${slide + 1})`, source.caseNumber, source.createCase);
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

  /**
   * One page of the worklist and how many scans match. Paging is by offset over an index: the
   * page's ids come from an index alone (every sort and filter has one: the issue 13 migrations),
   * then only those rows are read whole, so a deep page costs an index walk, not row reads.
   */
  list(labId: number, f: ScanFilter): { scans: ScanRow[]; total: number; exact: boolean } {
    const q = worklistSql(labId, f);
    const counted = (this.db.prepare(q.count).get(q.params) as { n: number }).n;
    const total = { total: counted, exact: counted < q.cap };
    if (counted <= f.offset) return { scans: [], ...total };
    const ids = (this.db.prepare(counted <= FEW_MATCHES ? q.idsOfFew : q.ids).all(q.params) as { id: number }[]).map((r) => r.id);
    if (ids.length === 0) return { scans: [], ...total };
    const rows = this.db.prepare(`SELECT ${cols} ${from} WHERE s.lab_id = ? AND s.id IN (SELECT value FROM json_each(?))`).all(labId, JSON.stringify(ids)) as ScanRow[];
    const byId = new Map(rows.map((r) => [r.id, r]));
    return { scans: ids.map((id) => byId.get(id)).filter((r): r is ScanRow => r !== undefined), ...total };
  }

  /** The lab's upload batches, newest first, for the worklist's batch filter. */
  batches(labId: number, limit: number): BatchSummary[] {
    // A batch's first scan (lowest id) says when it started and who sent it; the walk is over the
    // (lab_id, batch_id, id) index.
    const rows = this.db
      .prepare(
        `SELECT g.batchId, g.scans, f.created_at AS createdAt, f.uploaded_by AS uploaderId, u.username AS uploaderName
         FROM (SELECT batch_id AS batchId, min(id) AS firstId, count(*) AS scans FROM scans WHERE lab_id = ? GROUP BY batch_id) g
         JOIN scans f ON f.id = g.firstId LEFT JOIN users u ON u.id = f.uploaded_by
         ORDER BY g.firstId DESC LIMIT ?`,
      )
      .all(labId, limit) as { batchId: string; scans: number; createdAt: string; uploaderId: number | null; uploaderName: string | null }[];
    return rows.map((r) => ({ batchId: r.batchId, createdAt: r.createdAt, scans: r.scans, uploadedBy: r.uploaderId !== null ? { id: r.uploaderId, username: r.uploaderName } : null }));
  }

  /** Who uploaded scans of this lab and which formats occur: the worklist's other filter choices. */
  facets(labId: number): { uploaders: { id: number; username: string | null }[]; formats: string[] } {
    const uploaders = this.db
      .prepare(`SELECT u.id, u.username FROM users u WHERE u.id IN (SELECT DISTINCT uploaded_by FROM scans WHERE lab_id = ? AND uploaded_by IS NOT NULL) ORDER BY u.username`)
      .all(labId) as { id: number; username: string | null }[];
    const formats = (this.db.prepare(`SELECT DISTINCT coalesce(format, claimed_format) AS f FROM scans WHERE lab_id = ? ORDER BY 1`).all(labId) as { f: string }[]).map((r) => r.f);
    return { uploaders, formats };
  }

  /** The scans of one upload batch, in arrival order (over the (lab_id, batch_id, id) index). */
  inBatch(labId: number, batchId: string): ScanRow[] {
    return this.db.prepare(`SELECT ${cols} ${from} WHERE s.lab_id = ? AND s.batch_id = ? ORDER BY s.id`).all(labId, batchId) as ScanRow[];
  }

  /** What linking the scan to its requested case came to (see ingest/case-link.ts). */
  setCaseLinkState(labId: number, id: number, state: CaseLinkState): void {
    this.db.prepare('UPDATE scans SET case_link_state = ? WHERE lab_id = ? AND id = ?').run(state, labId, id);
  }

  /** The lab renamed a scan. */
  rename(labId: number, id: number, name: string): void {
    this.db.prepare(`UPDATE scans SET name = ?, updated_at = ${now} WHERE lab_id = ? AND id = ?`).run(name, labId, id);
  }

  /** Record (or, with null, forget) the scan's thumbnail file. */
  setThumbnail(labId: number, id: number, path: string | null): void {
    this.db.prepare('UPDATE scans SET thumbnail_path = ? WHERE lab_id = ? AND id = ?').run(path, labId, id);
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
      .prepare(`UPDATE scans SET status = 'quarantined', error = ?, verify_problems = ?, thumbnail_path = NULL, updated_at = ${now} WHERE lab_id = ? AND id = ?`)
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
