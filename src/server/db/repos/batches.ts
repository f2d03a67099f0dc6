import { sql } from 'kysely';
import { now, type Ctx } from './context.ts';

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

/** Batches, always within a lab: a batch id is the client's, unique only per lab. */
export class BatchRepo {
  constructor(private readonly c: Ctx) {}

  private select() {
    return this.c.db
      .selectFrom('batches as b')
      .leftJoin('users as u', 'u.id', 'b.created_by')
      .select(['b.lab_id as labId', 'b.id', 'b.client', 'b.slides', 'b.created_by as createdBy', 'u.username as createdByName', 'b.created_at as createdAt', 'b.finished_at as finishedAt'])
      .$castTo<BatchRow>();
  }

  /** The row for a batch, created on first sight (its first upload); an existing row is kept as it is. */
  async ensure(labId: number, id: string, client: BatchClient, createdBy: number | null): Promise<void> {
    await this.c.db.insertInto('batches').values({ lab_id: labId, id, client, created_by: createdBy }).onConflict((oc) => oc.doNothing()).execute();
  }

  /**
   * What the client says about its batch (creating the row if missing). `finished` stamps the end
   * once; later calls keep the first stamp.
   */
  async record(labId: number, id: string, r: { client: BatchClient; slides: number; finished: boolean }, userId: number): Promise<BatchRow> {
    await this.c.db
      .insertInto('batches')
      .values({ lab_id: labId, id, client: r.client, slides: r.slides, created_by: userId, finished_at: r.finished ? now(this.c) : null })
      .onConflict((oc) =>
        oc.columns(['lab_id', 'id']).doUpdateSet((eb) => ({
          client: eb.ref('excluded.client'),
          slides: eb.ref('excluded.slides'),
          finished_at: r.finished ? eb.fn.coalesce('batches.finished_at', now(this.c)) : eb.ref('batches.finished_at'),
        })),
      )
      .execute();
    return (await this.byId(labId, id))!;
  }

  byId(labId: number, id: string): Promise<BatchRow | undefined> {
    return this.select().where('b.lab_id', '=', labId).where('b.id', '=', id).executeTakeFirst();
  }

  /** The lab's newest batches (ties, made in one millisecond: by id, on both databases). */
  recent(labId: number, limit: number): Promise<BatchRow[]> {
    return this.select().where('b.lab_id', '=', labId).orderBy('b.created_at', 'desc').orderBy('b.id', 'desc').limit(limit).execute();
  }

  /** Scan counts per batch id (over the scans' (lab_id, batch_id, id) index). */
  async counts(labId: number, ids: string[]): Promise<Map<string, BatchCounts>> {
    const out = new Map<string, BatchCounts>();
    if (ids.length === 0) return out;
    // count(*) FILTER: the same on both databases (SQLite >= 3.30), and a number, never a boolean sum.
    const rows = await this.c.db
      .selectFrom('scans')
      .select([
        'batch_id as id',
        sql<number>`count(*)`.as('scans'),
        sql<number>`count(*) FILTER (WHERE status = 'ready')`.as('ready'),
        sql<number>`count(*) FILTER (WHERE status = 'needs-mpp')`.as('needsMpp'),
        sql<number>`count(*) FILTER (WHERE status IN ('failed', 'quarantined', 'corrupt'))`.as('failed'),
        sql<number>`count(*) FILTER (WHERE status IN ('uploading', 'processing'))`.as('processing'),
      ])
      .where('lab_id', '=', labId)
      .where('batch_id', 'in', ids)
      .groupBy('batch_id')
      .execute();
    for (const { id, ...c } of rows) out.set(id, c);
    return out;
  }
}

export const noScans: BatchCounts = { scans: 0, ready: 0, needsMpp: 0, failed: 0, processing: 0 };
