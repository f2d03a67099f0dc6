import type { Database } from 'better-sqlite3';

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
  constructor(private readonly db: Database) {}

  /** The lab's own quota in bytes; undefined when it follows the server's default. */
  quotaOf(labId: number): number | undefined {
    const r = this.db.prepare('SELECT storage_quota_bytes AS q FROM labs WHERE id = ?').get(labId) as { q: number | null } | undefined;
    return r?.q ?? undefined;
  }

  /** Set the lab's own quota (bytes, 0 = no limit) or go back to the default (null). */
  setQuota(labId: number, bytes: number | null): void {
    this.db.prepare('UPDATE labs SET storage_quota_bytes = ? WHERE id = ?').run(bytes, labId);
  }

  usage(labId: number): LabUsage {
    const stored = this.db
      .prepare(
        `SELECT
           (SELECT coalesce(sum(f.size), 0) FROM scan_files f JOIN scans s ON s.id = f.scan_id WHERE s.lab_id = @labId AND s.files_removed_at IS NULL)
         + (SELECT coalesce(sum(i.size), 0) FROM scan_instances i JOIN scans s ON s.id = i.scan_id WHERE s.lab_id = @labId AND s.files_removed_at IS NULL) AS n`,
      )
      .get({ labId }) as { n: number };
    const inFlight = this.db.prepare(`SELECT coalesce(sum(size), 0) AS n FROM uploads WHERE lab_id = ? AND status = 'uploading'`).get(labId) as { n: number };
    return { storedBytes: stored.n, inFlightBytes: inFlight.n };
  }
}
