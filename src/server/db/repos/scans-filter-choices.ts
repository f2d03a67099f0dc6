/**
 * The Scans worklist's filter choices (GET /api/scans/filters): the lab's recent upload batches,
 * who uploaded and which formats occur. A lab has 100,000s of scans but only tens of batches
 * asked for and a handful of uploaders and formats, so none of these reads the whole lab (a
 * GROUP BY / DISTINCT over it took PostgreSQL 95–122 ms at 100,000 scans, a sequential scan):
 * every query is index descents whose number follows the answer, not the lab. The same SQL runs
 * on both databases; test/server/scans-query-plan*.test.ts check both planners keep it that way.
 */
import { sql, type RawBuilder } from 'kysely';

export interface BatchChoiceRow {
  batchId: string;
  scans: number;
  createdAt: string;
  uploaderId: number | null;
  uploaderName: string | null;
}

/**
 * The newest `limit` batches: a batch's first scan (lowest id) says when it started and who sent
 * it, and newest means by that id. The lab's scans are walked newest first over (lab_id, id) and
 * a scan is kept when no earlier scan of its batch exists (one probe of (lab_id, batch_id, id));
 * the walk stops once `limit` batches are found, having read the scans of those batches (and of
 * nothing older). Only those batches are counted.
 * `lab_id BETWEEN x AND x` with ORDER BY lab_id, id (not `lab_id = x` ORDER BY id) is on purpose:
 * with an equality PostgreSQL may walk the primary key backwards instead, stepping over every
 * newer scan of the other labs (15,000 rows read for 500 in the plan test); the range makes the
 * (lab_id, id) order one only scans_lab_id gives. SQLite walks scans_lab_id either way.
 */
export function batchChoicesSql(labId: number, limit: number): RawBuilder<BatchChoiceRow> {
  return sql<BatchChoiceRow>`
    SELECT g.batch_id AS "batchId", (SELECT count(*) FROM scans c WHERE c.lab_id = ${labId} AND c.batch_id = g.batch_id) AS scans,
      g.created_at AS "createdAt", g.uploaded_by AS "uploaderId", u.username AS "uploaderName"
    FROM (SELECT f.id, f.batch_id, f.created_at, f.uploaded_by FROM scans f
      WHERE f.lab_id BETWEEN ${labId} AND ${labId} AND NOT EXISTS (SELECT 1 FROM scans p WHERE p.lab_id = ${labId} AND p.batch_id = f.batch_id AND p.id < f.id)
      ORDER BY f.lab_id DESC, f.id DESC LIMIT ${limit}) g
    LEFT JOIN users u ON u.id = g.uploaded_by
    ORDER BY g.id DESC`;
}

/**
 * Who uploaded scans of the lab, by name: a skip scan over scans_lab_uploader (each recursive
 * step finds the next uploader id above the last, one index descent), then their user rows (CROSS
 * JOIN: SQLite keeps that order and looks each up by id rather than reading every user; to
 * PostgreSQL it is an ordinary join).
 */
export function uploaderChoicesSql(labId: number): RawBuilder<{ id: number; username: string | null }> {
  return sql<{ id: number; username: string | null }>`
    WITH RECURSIVE up(id) AS (
      SELECT (SELECT uploaded_by FROM scans WHERE lab_id = ${labId} AND uploaded_by IS NOT NULL ORDER BY uploaded_by LIMIT 1)
      UNION ALL
      SELECT (SELECT s.uploaded_by FROM scans s WHERE s.lab_id = ${labId} AND s.uploaded_by > up.id ORDER BY s.uploaded_by LIMIT 1)
      FROM up WHERE up.id IS NOT NULL)
    SELECT u.id, u.username FROM up CROSS JOIN users u WHERE u.id = up.id ORDER BY u.username, u.id`;
}

/**
 * The formats that occur in the lab (the engine's once ingested, else the claimed one), sorted: a
 * skip scan over scans_lab_format. The expression is spelled exactly as that index's so both
 * planners match it.
 */
export function formatChoicesSql(labId: number): RawBuilder<{ f: string }> {
  return sql<{ f: string }>`
    WITH RECURSIVE fm(f) AS (
      SELECT (SELECT coalesce(format, claimed_format) FROM scans WHERE lab_id = ${labId} ORDER BY coalesce(format, claimed_format) LIMIT 1)
      UNION ALL
      SELECT (SELECT coalesce(s.format, s.claimed_format) FROM scans s WHERE s.lab_id = ${labId} AND coalesce(s.format, s.claimed_format) > fm.f
        ORDER BY coalesce(s.format, s.claimed_format) LIMIT 1)
      FROM fm WHERE fm.f IS NOT NULL)
    SELECT f FROM fm WHERE f IS NOT NULL ORDER BY f`;
}
