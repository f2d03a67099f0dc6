import { changed, now, type Ctx } from './context.ts';

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

const cols = [
  'id', 'lab_id as labId', 'user_id as userId', 'slide_id as slideId', 'batch_id as batchId', 'part', 'parts', 'filename', 'part_path as partPath', 'format',
  'sha256', 'mode', 'size', 'status', 'scan_id as scanId', 'kept_fields as keptFields', 'scan_name as scanName', 'case_number as caseNumber', 'create_case as createCase',
  'created_at as createdAt', 'finished_at as finishedAt',
] as const;

/** A row as the database returns it: kept_fields is a JSON array of ids, create_case 0/1. */
type RawUploadRow = Omit<UploadRow, 'keptFields' | 'createCase'> & { keptFields: string; createCase: number };

function toRow(r: RawUploadRow | undefined): UploadRow | undefined {
  return r && { ...r, keptFields: JSON.parse(r.keptFields) as string[], createCase: r.createCase === 1 };
}

/** One row per tus upload (one part of one slide), bound to the lab and user that created it. */
export class UploadRepo {
  constructor(private readonly c: Ctx) {}

  async create(u: NewUpload): Promise<void> {
    await this.c.db
      .insertInto('uploads')
      .values({
        id: u.id, lab_id: u.labId, user_id: u.userId, slide_id: u.slideId, batch_id: u.batchId, part: u.part, parts: u.parts, filename: u.filename, part_path: u.partPath ?? null,
        format: u.format, sha256: u.sha256, mode: u.mode, size: u.size, kept_fields: JSON.stringify(u.keptFields ?? []),
        scan_name: u.scanName ?? null, case_number: u.caseNumber ?? null, create_case: u.caseNumber && u.createCase ? 1 : 0, status: 'uploading',
      })
      .execute();
  }

  /** Unscoped on purpose: the tus gate needs the owner to decide between 404 and go-ahead. */
  async byIdForAccessCheck(id: string): Promise<UploadRow | undefined> {
    return toRow((await this.c.db.selectFrom('uploads').select(cols).where('id', '=', id).executeTakeFirst()) as RawUploadRow | undefined);
  }

  /** The slide's uploads by part, then arrival (ties within one millisecond: by id). */
  async forSlide(labId: number, slideId: string): Promise<UploadRow[]> {
    const rows = await this.c.db.selectFrom('uploads').select(cols).where('lab_id', '=', labId).where('slide_id', '=', slideId).orderBy('part').orderBy('created_at').orderBy('id').execute();
    return (rows as RawUploadRow[]).map((r) => toRow(r)!);
  }

  /**
   * The identifying fields the user kept in the stored parts of a scan: the union over the uploads
   * whose bytes the scan holds (a part sent twice counts once, by the copy that was stored).
   */
  async keptFieldsOfScan(labId: number, scanId: number): Promise<string[]> {
    const rows = await this.c.db
      .selectFrom('scan_files as f')
      .innerJoin('uploads as u', 'u.id', 'f.upload_id')
      .innerJoin('scans as s', 's.id', 'f.scan_id')
      .select('u.kept_fields as keptFields')
      .where('s.lab_id', '=', labId)
      .where('f.scan_id', '=', scanId)
      .whereRef('u.lab_id', '=', 's.lab_id')
      .execute();
    return [...new Set(rows.flatMap((r) => JSON.parse(r.keptFields) as string[]))];
  }

  async finish(labId: number, id: string, status: Exclude<UploadStatus, 'uploading'>, scanId: number | null): Promise<void> {
    await this.c.db.updateTable('uploads').set({ status, scan_id: scanId, finished_at: now(this.c) }).where('lab_id', '=', labId).where('id', '=', id).execute();
  }

  /**
   * The digest a deferred upload announced with its last bytes (tus/deferred-digest.ts): kept, so
   * a finish that failed and is re-run by a HEAD compares against it too.
   */
  async setAnnouncedSha256(labId: number, id: string, sha256: string): Promise<void> {
    await this.c.db.updateTable('uploads').set({ sha256 }).where('lab_id', '=', labId).where('id', '=', id).where('status', '=', 'uploading').execute();
  }

  async markTerminated(labId: number, id: string): Promise<void> {
    await this.c.db.updateTable('uploads').set({ status: 'terminated', finished_at: now(this.c) }).where('lab_id', '=', labId).where('id', '=', id).where('status', '=', 'uploading').execute();
  }

  /** Unfinished uploads created before `cutoffIso` (all labs: the expiry sweep is global). */
  async expireUnfinishedBefore(cutoffIso: string): Promise<number> {
    const r = await this.c.db.updateTable('uploads').set({ status: 'terminated', finished_at: now(this.c) }).where('status', '=', 'uploading').where('created_at', '<', cutoffIso).executeTakeFirst();
    return changed(r);
  }
}
