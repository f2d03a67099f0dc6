import { sql } from 'kysely';
import { changed, type Ctx } from './context.ts';

/** A job some instance has claimed: ingest scan `scanId` of lab `labId` until the lease ends. */
export interface ClaimedJob {
  labId: number;
  scanId: number;
  /** 1 on the first run; more when an instance died (or stopped) before finishing it. */
  attempt: number;
  /** The request that queued it (its log lines carry it), when there was one. */
  requestId: string | undefined;
}

/**
 * Ingest jobs in the database, so that every server instance sharing it takes its share and each
 * scan is ingested once: a job is claimed with a lease (`owner`, `lease_until` in ms since epoch),
 * renewed while it runs; a job whose owner died is claimed again once its lease ran out, up to a
 * number of attempts. PostgreSQL claims with FOR UPDATE SKIP LOCKED (instances never wait on each
 * other's claim); SQLite has one writer, which serialises claims the same way.
 *
 * Times are the instances' clocks in ms: leases are tens of seconds, far above their drift.
 */
export class IngestJobRepo {
  constructor(private readonly c: Ctx) {}

  /**
   * Queue the scan's ingest. A job already waiting stays as it is; one running now is marked to
   * run again when it ends (a Reprocess during ingest), never handed to a second instance meanwhile.
   */
  async enqueue(labId: number, scanId: number, now: number, requestId?: string): Promise<void> {
    await this.c.db
      .insertInto('ingest_jobs')
      .values({ scan_id: scanId, lab_id: labId, queued_at: now, attempts: 0, owner: null, lease_until: null, again: 0, request_id: requestId ?? null })
      .onConflict((oc) =>
        oc.column('scan_id').doUpdateSet({
          again: sql<number>`CASE WHEN ingest_jobs.owner IS NULL THEN 0 ELSE 1 END`,
          attempts: sql<number>`CASE WHEN ingest_jobs.owner IS NULL THEN 0 ELSE ingest_jobs.attempts END`,
          request_id: requestId ?? null,
        }),
      )
      .execute();
  }

  /**
   * Claim the oldest job nobody holds (or whose holder's lease ran out) with fewer than
   * `maxAttempts` attempts; undefined when there is none.
   */
  async claim(owner: string, now: number, leaseMs: number, maxAttempts: number): Promise<ClaimedJob | undefined> {
    let pick = this.c.db
      .selectFrom('ingest_jobs')
      .select('scan_id')
      .where((eb) => eb.or([eb('owner', 'is', null), eb('lease_until', '<', now)]))
      .where('attempts', '<', maxAttempts)
      .orderBy('queued_at')
      .orderBy('scan_id')
      .limit(1);
    if (this.c.dialect === 'postgres') pick = pick.forUpdate().skipLocked();
    const row = await this.c.db
      .updateTable('ingest_jobs')
      .set({ owner, lease_until: now + leaseMs, attempts: sql<number>`attempts + 1`, again: 0 })
      .where('scan_id', '=', (eb) => eb.selectFrom(pick.as('p')).select('p.scan_id'))
      .returning(['lab_id', 'scan_id', 'attempts', 'request_id'])
      .executeTakeFirst();
    return row && { labId: row.lab_id, scanId: row.scan_id, attempt: row.attempts, requestId: row.request_id ?? undefined };
  }

  /** Extend the lease of a job this owner runs; false when it is no longer ours (taken over). */
  async renew(scanId: number, owner: string, now: number, leaseMs: number): Promise<boolean> {
    const r = await this.c.db.updateTable('ingest_jobs').set({ lease_until: now + leaseMs }).where('scan_id', '=', scanId).where('owner', '=', owner).executeTakeFirst();
    return changed(r) > 0;
  }

  /** The job ended (whatever the scan's outcome): gone, unless it was queued again meanwhile. */
  async finish(scanId: number, owner: string, now: number): Promise<void> {
    await this.c.db.deleteFrom('ingest_jobs').where('scan_id', '=', scanId).where('owner', '=', owner).where('again', '=', 0).execute();
    await this.c.db.updateTable('ingest_jobs').set({ owner: null, lease_until: null, attempts: 0, again: 0, queued_at: now }).where('scan_id', '=', scanId).where('owner', '=', owner).execute();
  }

  /** Give a job back unfinished (this instance is stopping): the next claim takes it without waiting for the lease. */
  async release(scanId: number, owner: string): Promise<void> {
    await this.c.db.updateTable('ingest_jobs').set({ owner: null, lease_until: null, attempts: sql<number>`CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END` }).where('scan_id', '=', scanId).where('owner', '=', owner).execute();
  }

  /** Jobs that used up their attempts and whose last lease ran out: the scans to mark failed. */
  async exhausted(now: number, maxAttempts: number): Promise<{ labId: number; scanId: number }[]> {
    const rows = await this.c.db
      .selectFrom('ingest_jobs')
      .select(['lab_id', 'scan_id'])
      .where('attempts', '>=', maxAttempts)
      .where((eb) => eb.or([eb('owner', 'is', null), eb('lease_until', '<', now)]))
      .execute();
    return rows.map((r) => ({ labId: r.lab_id, scanId: r.scan_id }));
  }

  /**
   * Scans waiting for ingest with no job (their instance died between marking the scan
   * 'processing' and queueing it, or the zip whose job made them is gone): queued now. Jobs
   * that exist, running or not, are left alone.
   */
  async adoptOrphans(now: number): Promise<number> {
    const r = await sql`INSERT INTO ingest_jobs (scan_id, lab_id, queued_at, attempts, again)
      SELECT s.id, s.lab_id, ${now}, 0, 0 FROM scans s
      WHERE s.status = 'processing' AND NOT EXISTS (SELECT 1 FROM ingest_jobs j WHERE j.scan_id = s.id)
        -- A slide derived from a zip is 'processing' while the zip's own job ingests it.
        AND NOT EXISTS (SELECT 1 FROM ingest_jobs p WHERE p.scan_id = s.source_scan_id)
      ON CONFLICT (scan_id) DO NOTHING`.execute(this.c.db);
    return Number(r.numAffectedRows ?? 0n);
  }

  /** Remove a job whatever its state (its scan failed for good, or was deleted). */
  async drop(scanId: number): Promise<void> {
    await this.c.db.deleteFrom('ingest_jobs').where('scan_id', '=', scanId).execute();
  }

  /** Jobs waiting or running, for the metrics' queue depth. */
  async depth(): Promise<number> {
    const r = await this.c.db.selectFrom('ingest_jobs').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(r.n);
  }
}
