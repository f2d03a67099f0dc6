import { sql } from 'kysely';
import type { Ctx } from './context.ts';

/** Bytes a lab occupies, split by where they are. */
export interface LabUsage {
  /** Bytes of stored scans: uploaded parts plus files extracted from them (zipped DICOM). */
  storedBytes: number;
  /** Announced size (Upload-Length) of the lab's uploads still in progress: space they will need. */
  inFlightBytes: number;
}

/**
 * Per-lab storage quota (NULL = the server's default, 0 = no limit) and what a lab uses. Quarantined
 * scans whose files a lab admin removed no longer count; their rows stay as the record.
 */
export class QuotaRepo {
  constructor(private readonly c: Ctx) {}

  /** The lab's own quota in bytes; undefined when it follows the server's default. */
  async quotaOf(labId: number): Promise<number | undefined> {
    const r = await this.c.db.selectFrom('labs').select('storage_quota_bytes as q').where('id', '=', labId).executeTakeFirst();
    return r?.q ?? undefined;
  }

  /** Set the lab's own quota (bytes, 0 = no limit) or go back to the default (null). */
  async setQuota(labId: number, bytes: number | null): Promise<void> {
    await this.c.db.updateTable('labs').set({ storage_quota_bytes: bytes }).where('id', '=', labId).execute();
  }

  async usage(labId: number): Promise<LabUsage> {
    const stored = await sql<{ n: number }>`SELECT
           (SELECT coalesce(sum(f.size), 0) FROM scan_files f JOIN scans s ON s.id = f.scan_id WHERE s.lab_id = ${labId} AND s.files_removed_at IS NULL)
         + (SELECT coalesce(sum(i.size), 0) FROM scan_instances i JOIN scans s ON s.id = i.scan_id WHERE s.lab_id = ${labId} AND s.files_removed_at IS NULL) AS n`.execute(this.c.db);
    const inFlight = await this.c.db
      .selectFrom('uploads')
      .select(sql<number>`coalesce(sum(size), 0)`.as('n'))
      .where('lab_id', '=', labId)
      .where('status', '=', 'uploading')
      .executeTakeFirstOrThrow();
    return { storedBytes: Number(stored.rows[0]!.n), inFlightBytes: Number(inFlight.n) };
  }
}
