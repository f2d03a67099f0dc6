import { sql, type RawBuilder } from 'kysely';
import { isUniqueViolation, type Dialect } from '../database.ts';
import { inTransaction, changed, now, type Ctx } from './context.ts';
import { batchChoicesSql, formatChoicesSql, uploaderChoicesSql } from './scans-filter-choices.ts';

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

// Aliases are double-quoted: PostgreSQL folds unquoted names to lower case (SQLite takes the quotes too).
const cols = sql.raw(`s.id, s.lab_id AS "labId", s.slide_id AS "slideId", s.batch_id AS "batchId", s.status, s.mode, s.parts,
  s.claimed_format AS "claimedFormat", s.format, s.width, s.height, s.levels, s.mpp_x AS "mppX", s.mpp_y AS "mppY",
  s.mpp_source AS "mppSource", s.original_filename AS "originalFilename", s.total_bytes AS "totalBytes",
  (SELECT count(*) FROM scan_instances i WHERE i.scan_id = s.id) AS "instanceCount", s.error,
  s.source_scan_id AS "sourceScanId", s.source_slide AS "sourceSlide",
  s.uploaded_by AS "uploadedBy", u.username AS "uploadedByName", s.verify_problems AS "verifyProblemsJson",
  s.files_removed_at AS "filesRemovedAt", s.files_removed_by AS "filesRemovedBy", r.username AS "filesRemovedByName",
  s.name, s.thumbnail_path AS "thumbnailPath",
  (SELECT count(*) FROM scans b WHERE b.lab_id = s.lab_id AND b.batch_id = s.batch_id AND b.id <= s.id) AS "batchPosition",
  (SELECT count(*) FROM scans b WHERE b.lab_id = s.lab_id AND b.batch_id = s.batch_id) AS "batchSize",
  (SELECT b.created_at FROM scans b WHERE b.lab_id = s.lab_id AND b.batch_id = s.batch_id ORDER BY b.id LIMIT 1) AS "batchCreatedAt",
  s.case_number AS "caseNumber", s.create_case AS "createCase", s.case_link_state AS "caseLinkState",
  s.created_at AS "createdAt", s.updated_at AS "updatedAt"
  FROM scans s LEFT JOIN users u ON u.id = s.uploaded_by LEFT JOIN users r ON r.id = s.files_removed_by`);

/** How far past the requested page the worklist counts matching scans (see list()). */
export const COUNT_AHEAD = 10000;

/** Up to this many matching scans, a page is found by sorting the matches (worklistSql's idsOfFew). */
export const FEW_MATCHES = 2000;

/** LIKE with the user's text taken literally. */
export function likePattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** LIKE as SQLite has it (ASCII case-insensitive) on either database; see repos/context.ts likeSql. */
const like = (dialect: Dialect, column: string, pattern: string): RawBuilder<boolean> =>
  sql<boolean>`${sql.raw(column)} ${sql.raw(dialect === 'postgres' ? 'ILIKE' : 'LIKE')} ${pattern} ESCAPE '\\'`;

/**
 * The worklist's two queries for one request: how many scans match (up to `cap`) and the page's
 * ids. Apart from list(), used by test/server/scans-query-plan.test.ts to check with EXPLAIN
 * QUERY PLAN that every filter shape stays an index walk (compile them with a Kysely instance).
 */
export function worklistSql(labId: number, f: ScanFilter, dialect: Dialect = 'sqlite'): { count: RawBuilder<{ n: number }>; ids: RawBuilder<{ id: number }>; idsOfFew: RawBuilder<{ id: number }>; cap: number } {
  const where: RawBuilder<unknown>[] = [sql`s.lab_id = ${labId}`];
  if (f.statuses && f.statuses.length > 0) where.push(sql`s.status IN (${sql.join(f.statuses)})`);
  // The flag the case_scans triggers keep (migration "not in a case"); spelled as the partial
  // indexes' WHERE is, so the planner may use them.
  if (f.unassigned) where.push(sql`s.in_case = 0`);
  if (f.batchId) where.push(sql`s.batch_id = ${f.batchId}`);
  if (f.uploadedBy !== undefined) where.push(sql`s.uploaded_by = ${f.uploadedBy}`);
  if (f.from) where.push(sql`s.created_at >= ${f.from}`);
  if (f.to) where.push(sql`s.created_at < ${f.to}`);
  // Spelled as the index is, so it is used.
  if (f.format) where.push(sql`coalesce(s.format, s.claimed_format) = ${f.format}`);
  if (f.q) {
    const q = likePattern(f.q);
    // SQLite: names through their FTS5 trigram index (migration of issue 13); a text shorter than
    // a trigram falls back to reading every row. PostgreSQL: ILIKE over pg_trgm indexes. Case
    // numbers: cases are few next to scans, so their matching numbers are found once, not per scan.
    // PostgreSQL: the matches are found once, through the trigram indexes (a bitmap OR of the
    // three), and each scan of the walk is then a lookup in that set, not three ILIKEs.
    const names = dialect === 'sqlite' && f.q.length >= 3
      ? sql`s.id IN (SELECT rowid FROM scans_search WHERE scans_search MATCH ${`"${f.q.replace(/"/g, '""')}"`})`
      : dialect === 'postgres'
        ? sql`s.id IN (SELECT n.id FROM scans n WHERE n.lab_id = ${labId} AND (${like(dialect, 'n.name', q)} OR ${like(dialect, 'n.original_filename', q)} OR ${like(dialect, 'n.slide_id', q)}))`
        : sql`(${like(dialect, 's.name', q)} OR ${like(dialect, 's.original_filename', q)} OR ${like(dialect, 's.slide_id', q)})`;
    where.push(
      sql`(${names} OR s.id IN (
         SELECT cs.scan_id FROM cases c JOIN case_scans cs ON cs.case_id = c.id
         WHERE c.lab_id = ${labId} AND ${like(dialect, 'c.case_number', q)}))`,
    );
  }
  const dir = f.dir === 'asc' ? 'ASC' : 'DESC';
  // SQLite: `+` makes a term an expression no index is sorted by (see idsOfFew). PostgreSQL has
  // no unary plus on text and plans by costs: the same order serves both uses.
  const name = dialect === 'postgres' ? 'lower(s.name)' : 's.name COLLATE NOCASE';
  const order = (p: '' | '+') => sql.raw(f.sort === 'name' ? `${p}${name} ${dir}, ${p}s.id ${dir}`
    : f.sort === 'status' ? `${p}s.status ${dir}, ${p}s.created_at ${dir}, ${p}s.id ${dir}`
    : `${p}s.created_at ${dir}, ${p}s.id ${dir}`);
  const w = sql.join(where, sql` AND `);
  // Counted up to COUNT_AHEAD scans past the page, not to the end: with 100,000 scans an exact
  // count of a filter the index cannot answer alone reads every matching entry, the page only its
  // own. Past the cap the total is a lower bound, flagged as such (`exact: false`), and the app
  // says "more than".
  const cap = f.offset + f.limit + COUNT_AHEAD;
  return {
    count: sql`SELECT count(*) AS n FROM (SELECT 1 FROM scans s WHERE ${w} LIMIT ${cap}) m`,
    ids: sql`SELECT s.id FROM scans s WHERE ${w} ORDER BY ${order('')} LIMIT ${f.limit} OFFSET ${f.offset}`,
    // When few scans match, walking the sort's index until a page is found can read every scan
    // of the lab (a rare combination of filters sorted by name: 100,000 rows for 0 hits);
    // finding the matches through the filters' index and sorting them is then the cheap way.
    idsOfFew: sql`SELECT s.id FROM scans s WHERE ${w} ORDER BY ${order(dialect === 'sqlite' ? '+' : '')} LIMIT ${f.limit} OFFSET ${f.offset}`,
    cap,
  };
}

/** Scans; every query takes the lab. */
export class ScanRepo {
  constructor(private readonly c: Ctx) {}

  private async rows(where: RawBuilder<unknown>, order: RawBuilder<unknown> = sql``): Promise<ScanRow[]> {
    return (await sql<ScanRow>`SELECT ${cols} WHERE ${where} ${order}`.execute(this.c.db)).rows;
  }

  /**
   * Inside a transaction: hold the scan's row until it ends, so read-then-write steps on one scan
   * (finishing its parts) take turns. PostgreSQL needs the row lock; SQLite has one writer anyway.
   */
  async lock(labId: number, id: number): Promise<void> {
    if (this.c.dialect === 'postgres') await sql`SELECT id FROM scans WHERE lab_id = ${labId} AND id = ${id} FOR NO KEY UPDATE`.execute(this.c.db);
  }

  /** Idempotent by (lab, slideId): returns the existing scan when the slide is already known (also when another request just made it). */
  async getOrCreate(s: NewScan): Promise<{ scan: ScanRow; created: boolean }> {
    const existing = await this.bySlideId(s.labId, s.slideId);
    if (existing) return { scan: existing, created: false };
    const id = await inTransaction(this.c, async (tx) => {
      // Every scan's batch has its record (normally made when the batch's first upload was created).
      await tx.db.insertInto('batches').values({ lab_id: s.labId, id: s.batchId, client: 'web', created_by: s.uploadedBy }).onConflict((oc) => oc.doNothing()).execute();
      const r = await tx.db
        .insertInto('scans')
        .values({
          lab_id: s.labId, slide_id: s.slideId, batch_id: s.batchId, status: s.status, mode: s.mode, parts: s.parts, claimed_format: s.claimedFormat,
          original_filename: s.originalFilename, uploaded_by: s.uploadedBy,
          name: s.name ?? defaultScanName(s.originalFilename, s.slideId),
          case_number: s.caseNumber ?? null,
          create_case: s.caseNumber && s.createCase ? 1 : 0,
        })
        .onConflict((oc) => oc.columns(['lab_id', 'slide_id']).doNothing())
        .returning('id')
        .executeTakeFirst();
      return r?.id;
    });
    if (id === undefined) return { scan: (await this.bySlideId(s.labId, s.slideId))!, created: false };
    return { scan: (await this.byId(s.labId, id))!, created: true };
  }

  /**
   * The scan of slide `slide` (>= 1) of `source`'s zip, created on first use (same lab, batch,
   * uploader and mode; no uploaded parts of its own). Idempotent, so reprocessing the zip keeps
   * the ids, cases and MPP fixes of the slides it already imported.
   */
  async derive(source: ScanRow, slide: number, originalFilename: string): Promise<ScanRow> {
    const find = async () => (await this.rows(sql`s.lab_id = ${source.labId} AND s.source_scan_id = ${source.id} AND s.source_slide = ${slide}`))[0];
    const existing = await find();
    if (existing) return existing;
    try {
      const r = await this.c.db
        .insertInto('scans')
        .values({
          lab_id: source.labId, slide_id: `${source.slideId}/${slide}`, batch_id: source.batchId, status: 'processing', mode: source.mode, parts: 0, claimed_format: 'dicom-wsi',
          original_filename: originalFilename, uploaded_by: source.uploadedBy, source_scan_id: source.id, source_slide: slide, name: `${source.name} (slide ${slide + 1})`,
          // The upload's case goes to every slide of the zip (they come from the same folder).
          case_number: source.caseNumber, create_case: source.createCase,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      return (await this.byId(source.labId, r.id))!;
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
      return (await find())!;
    }
  }

  /** Scans derived from `sourceId`'s upload, by slide. */
  derived(labId: number, sourceId: number): Promise<ScanRow[]> {
    return this.rows(sql`s.lab_id = ${labId} AND s.source_scan_id = ${sourceId}`, sql`ORDER BY s.source_slide, s.id`);
  }

  async byId(labId: number, id: number): Promise<ScanRow | undefined> {
    return (await this.rows(sql`s.lab_id = ${labId} AND s.id = ${id}`))[0];
  }

  async bySlideId(labId: number, slideId: string): Promise<ScanRow | undefined> {
    return (await this.rows(sql`s.lab_id = ${labId} AND s.slide_id = ${slideId}`))[0];
  }

  /**
   * One page of the worklist and how many scans match. Paging is by offset over an index: the
   * page's ids come from an index alone (every sort and filter has one: the issue 13 migrations),
   * then only those rows are read whole, so a deep page costs an index walk, not row reads.
   */
  async list(labId: number, f: ScanFilter): Promise<{ scans: ScanRow[]; total: number; exact: boolean }> {
    const q = worklistSql(labId, f, this.c.dialect);
    const counted = Number((await q.count.execute(this.c.db)).rows[0]!.n);
    const total = { total: counted, exact: counted < q.cap };
    if (counted <= f.offset) return { scans: [], ...total };
    const ids = (await (counted <= FEW_MATCHES ? q.idsOfFew : q.ids).execute(this.c.db)).rows.map((r) => Number(r.id));
    if (ids.length === 0) return { scans: [], ...total };
    const rows = await this.rows(sql`s.lab_id = ${labId} AND s.id IN (${sql.join(ids)})`);
    const byId = new Map(rows.map((r) => [r.id, r]));
    return { scans: ids.map((id) => byId.get(id)).filter((r): r is ScanRow => r !== undefined), ...total };
  }

  /** The lab's upload batches, newest first, for the worklist's batch filter (see scans-filter-choices.ts). */
  async batches(labId: number, limit: number): Promise<BatchSummary[]> {
    const rows = (await batchChoicesSql(labId, limit).execute(this.c.db)).rows;
    return rows.map((r) => ({ batchId: r.batchId, createdAt: r.createdAt, scans: Number(r.scans), uploadedBy: r.uploaderId !== null ? { id: Number(r.uploaderId), username: r.uploaderName } : null }));
  }

  /** Who uploaded scans of this lab and which formats occur: the worklist's other filter choices. */
  async facets(labId: number): Promise<{ uploaders: { id: number; username: string | null }[]; formats: string[] }> {
    const uploaders = (await uploaderChoicesSql(labId).execute(this.c.db)).rows.map((u) => ({ id: Number(u.id), username: u.username }));
    const formats = (await formatChoicesSql(labId).execute(this.c.db)).rows.map((r) => r.f);
    return { uploaders, formats };
  }

  /** The scans of one upload batch, in arrival order (over the (lab_id, batch_id, id) index). */
  inBatch(labId: number, batchId: string): Promise<ScanRow[]> {
    return this.rows(sql`s.lab_id = ${labId} AND s.batch_id = ${batchId}`, sql`ORDER BY s.id`);
  }

  private update(labId: number, id: number) {
    return this.c.db.updateTable('scans').where('lab_id', '=', labId).where('id', '=', id);
  }

  /** What linking the scan to its requested case came to (see ingest/case-link.ts). */
  async setCaseLinkState(labId: number, id: number, state: CaseLinkState): Promise<void> {
    await this.update(labId, id).set({ case_link_state: state }).execute();
  }

  /** The lab renamed a scan. */
  async rename(labId: number, id: number, name: string): Promise<void> {
    await this.update(labId, id).set({ name, updated_at: now(this.c) }).execute();
  }

  /** Record (or, with null, forget) the scan's thumbnail file. */
  async setThumbnail(labId: number, id: number, path: string | null): Promise<void> {
    await this.update(labId, id).set({ thumbnail_path: path }).execute();
  }


  async setStatus(labId: number, id: number, status: ScanStatus, error: string | null = null): Promise<void> {
    await this.update(labId, id).set({ status, error, updated_at: now(this.c) }).execute();
  }

  /**
   * A deidentified upload failed the server's verification: quarantined with the problems found
   * (words only) and a summary where errors go, so every list shows why.
   */
  async quarantine(labId: number, id: number, problems: string[], summary: string): Promise<void> {
    await this.update(labId, id).set({ status: 'quarantined', error: summary, verify_problems: JSON.stringify(problems), thumbnail_path: null, updated_at: now(this.c) }).execute();
  }

  /** Verification passed (again): whatever an earlier run found no longer applies. */
  async clearVerifyProblems(labId: number, id: number): Promise<void> {
    await this.update(labId, id).set({ verify_problems: null }).execute();
  }

  /**
   * Record that a lab admin removed a quarantined scan's bytes. The status stays 'quarantined' and
   * the stored parts' rows stay (their sizes and hashes say what was removed); only the size the
   * scan occupies drops to 0. Returns false when the scan is not (or no longer) quarantined.
   */
  async markFilesRemoved(labId: number, id: number, userId: number, note: string): Promise<boolean> {
    const r = await this.update(labId, id)
      .set({ files_removed_at: now(this.c), files_removed_by: userId, total_bytes: 0, error: note, updated_at: now(this.c) })
      .where('status', '=', 'quarantined')
      .executeTakeFirst();
    return changed(r) === 1;
  }

  async setUserMpp(labId: number, id: number, x: number, y: number): Promise<void> {
    await this.update(labId, id).set({ mpp_x: x, mpp_y: y, mpp_source: 'user', updated_at: now(this.c) }).execute();
  }

  /**
   * Store what ingest found. A user-entered MPP wins over the file's (the user corrected it).
   * `instances`, when given, replace the scan's derived files; `note` (e.g. "the zip holds 3
   * slides…") goes where errors go, so the lab sees it.
   */
  setIngestResult(labId: number, id: number, r: IngestResult, status: ScanStatus, extra: { instances?: ScanInstance[]; note?: string } = {}): Promise<void> {
    return inTransaction(this.c, async (tx) => {
      const repo = new ScanRepo(tx);
      await repo.update(labId, id).set({ format: r.format, width: r.width, height: r.height, levels: r.levels, status, error: extra.note ?? null, updated_at: now(tx) }).execute();
      if (extra.instances) {
        await tx.db.deleteFrom('scan_instances').where('scan_id', '=', id).execute();
        for (const f of extra.instances) await tx.db.insertInto('scan_instances').values({ scan_id: id, part: f.part, path: f.path, size: f.size, sha256: f.sha256 }).execute();
        // A scan derived from another's zip has no upload of its own: its size is its instances'.
        await repo.update(labId, id)
          .set({ total_bytes: sql<number>`(SELECT coalesce(sum(size), 0) FROM scan_instances WHERE scan_id = ${id})` })
          .where('source_scan_id', 'is not', null)
          .execute();
      }
      if (r.mpp) {
        await repo.update(labId, id)
          .set({ mpp_x: r.mpp.x, mpp_y: r.mpp.y, mpp_source: r.mpp.source })
          .where((eb) => eb.or([eb('mpp_source', 'is', null), eb('mpp_source', '<>', 'user')]))
          .execute();
      }
    });
  }

  files(labId: number, id: number): Promise<ScanFile[]> {
    return this.c.db
      .selectFrom('scan_files as f')
      .innerJoin('scans as s', 's.id', 'f.scan_id')
      .select(['f.part', 'f.path', 'f.name', 'f.size', 'f.sha256', 'f.upload_id as uploadId'])
      .where('s.lab_id', '=', labId)
      .where('f.scan_id', '=', id)
      .orderBy('f.part')
      .execute();
  }

  /** Files derived at ingest (zipped DICOM instances), by part; empty for scans viewed as uploaded. */
  instances(labId: number, id: number): Promise<ScanInstance[]> {
    return this.c.db
      .selectFrom('scan_instances as i')
      .innerJoin('scans as s', 's.id', 'i.scan_id')
      .select(['i.part', 'i.path', 'i.size', 'i.sha256'])
      .where('s.lab_id', '=', labId)
      .where('i.scan_id', '=', id)
      .orderBy('i.part')
      .execute();
  }

  /** Record a stored part (replacing an earlier copy of the same part) and keep total_bytes in step. */
  putFile(labId: number, id: number, f: ScanFile): Promise<void> {
    return inTransaction(this.c, async (tx) => {
      const repo = new ScanRepo(tx);
      if (!(await repo.byId(labId, id))) throw new Error('scan not in lab');
      await tx.db
        .insertInto('scan_files')
        .values({ scan_id: id, part: f.part, path: f.path, name: f.name ?? null, size: f.size, sha256: f.sha256, upload_id: f.uploadId })
        .onConflict((oc) =>
          oc.columns(['scan_id', 'part']).doUpdateSet((eb) => ({
            path: eb.ref('excluded.path'), name: eb.ref('excluded.name'), size: eb.ref('excluded.size'), sha256: eb.ref('excluded.sha256'), upload_id: eb.ref('excluded.upload_id'),
          })),
        )
        .execute();
      await repo.update(labId, id)
        .set({ total_bytes: sql<number>`(SELECT coalesce(sum(size), 0) FROM scan_files WHERE scan_id = ${id})`, updated_at: now(tx) })
        .execute();
    });
  }

  async casesOf(labId: number, scanIds: number[]): Promise<Map<number, { id: number; caseNumber: string }[]>> {
    const out = new Map<number, { id: number; caseNumber: string }[]>();
    if (scanIds.length === 0) return out;
    const rows = await this.c.db
      .selectFrom('case_scans as cs')
      .innerJoin('cases as c', 'c.id', 'cs.case_id')
      .select(['cs.scan_id as scanId', 'c.id', 'c.case_number as caseNumber'])
      .where('cs.lab_id', '=', labId)
      .where('cs.scan_id', 'in', scanIds)
      .orderBy('c.case_number')
      .orderBy('c.id')
      .execute();
    for (const r of rows) {
      const list = out.get(r.scanId) ?? [];
      list.push({ id: r.id, caseNumber: r.caseNumber });
      out.set(r.scanId, list);
    }
    return out;
  }
}
