import type { Database } from 'better-sqlite3';

export type BatchClient = 'web' | 'cli';

/** The server's record of an upload batch: what the client said about it; its scans are looked up by batch id. */
export interface BatchRow {
  labId: number;
  id: string;
  client: BatchClient;
  /** How many slides the client said the batch has (PUT /api/batches/:id); null = not said. */
  slides: number | null;
  createdBy: number | null;
  createdByName: string | null;
  createdAt: string;
  finishedAt: string | null;
}

/** Scan counts of a batch, by what a person makes of them. */
export interface BatchCounts {
  scans: number;
  ready: number;
  needsMpp: number;
  /** failed, quarantined or corrupt. */
  failed: number;
  /** uploading or processing. */
  processing: number;
}

const cols = `b.lab_id AS labId, b.id, b.client, b.slides, b.created_by AS createdBy, u.username AS createdByName, b.created_at AS createdAt, b.finished_at AS finishedAt`;
const from = 'FROM batches b LEFT JOIN users u ON u.id = b.created_by';
const now = `strftime('%Y-%m-%dT%H:%M:%fZ','now')`;

const countCols = `count(*) AS scans,
  coalesce(sum(status = 'ready'), 0) AS ready,
  coalesce(sum(status = 'needs-mpp'), 0) AS needsMpp,
  coalesce(sum(status IN ('failed', 'quarantined', 'corrupt')), 0) AS failed,
  coalesce(sum(status IN ('uploading', 'processing')), 0) AS processing`;

/** Batches, always within a lab: a batch id is the client's, unique only per lab. */
export class BatchRepo {
  constructor(private readonly db: Database) {}

  /** The row for a batch, created on first sight (its first upload); an existing row is kept as it is. */
  ensure(labId: number, id: string, client: BatchClient, createdBy: number | null): void {
    this.db.prepare('INSERT OR IGNORE INTO batches (lab_id, id, client, created_by) VALUES (?, ?, ?, ?)').run(labId, id, client, createdBy);
  }

  /**
   * What the client says about its batch (creating the row if missing). `finished` stamps the end
   * once; later calls keep the first stamp.
   */
  record(labId: number, id: string, r: { client: BatchClient; slides: number; finished: boolean }, userId: number): BatchRow {
    this.db
      .prepare(
        `INSERT INTO batches (lab_id, id, client, slides, created_by, finished_at) VALUES (@labId, @id, @client, @slides, @userId, CASE WHEN @finished THEN ${now} END)
         ON CONFLICT (lab_id, id) DO UPDATE SET client = excluded.client, slides = excluded.slides,
           finished_at = CASE WHEN @finished THEN coalesce(batches.finished_at, ${now}) ELSE batches.finished_at END`,
      )
      .run({ labId, id, client: r.client, slides: r.slides, userId, finished: r.finished ? 1 : 0 });
    return this.byId(labId, id)!;
  }

  byId(labId: number, id: string): BatchRow | undefined {
    return this.db.prepare(`SELECT ${cols} ${from} WHERE b.lab_id = ? AND b.id = ?`).get(labId, id) as BatchRow | undefined;
  }

  /** The lab's newest batches. */
  recent(labId: number, limit: number): BatchRow[] {
    return this.db.prepare(`SELECT ${cols} ${from} WHERE b.lab_id = ? ORDER BY b.created_at DESC, b.rowid DESC LIMIT ?`).all(labId, limit) as BatchRow[];
  }

  /** Scan counts per batch id (over the scans' (lab_id, batch_id, id) index). */
  counts(labId: number, ids: string[]): Map<string, BatchCounts> {
    const out = new Map<string, BatchCounts>();
    if (ids.length === 0) return out;
    const rows = this.db
      .prepare(`SELECT batch_id AS id, ${countCols} FROM scans WHERE lab_id = ? AND batch_id IN (SELECT value FROM json_each(?)) GROUP BY batch_id`)
      .all(labId, JSON.stringify(ids)) as (BatchCounts & { id: string })[];
    for (const { id, ...c } of rows) out.set(id, c);
    return out;
  }
}

export const noScans: BatchCounts = { scans: 0, ready: 0, needsMpp: 0, failed: 0, processing: 0 };
