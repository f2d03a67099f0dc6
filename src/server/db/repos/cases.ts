import type { Database } from 'better-sqlite3';
import { likePattern } from './scans.ts';

export interface CaseRow {
  id: number;
  labId: number;
  caseNumber: string;
  description: string;
  createdBy: number | null;
  createdAt: string;
  scanCount: number;
}

const cols = `c.id, c.lab_id AS labId, c.case_number AS caseNumber, c.description, c.created_by AS createdBy, c.created_at AS createdAt,
  (SELECT count(*) FROM case_scans cs WHERE cs.case_id = c.id) AS scanCount`;

/** Cases of a lab and the scans linked to them; a link never crosses labs. */
export class CaseRepo {
  constructor(private readonly db: Database) {}

  create(labId: number, caseNumber: string, description: string, createdBy: number | null): CaseRow {
    const r = this.db.prepare('INSERT INTO cases (lab_id, case_number, description, created_by) VALUES (?, ?, ?, ?)').run(labId, caseNumber, description, createdBy);
    return this.byId(labId, Number(r.lastInsertRowid))!;
  }

  byId(labId: number, id: number): CaseRow | undefined {
    return this.db.prepare(`SELECT ${cols} FROM cases c WHERE c.lab_id = ? AND c.id = ?`).get(labId, id) as CaseRow | undefined;
  }

  byNumber(labId: number, caseNumber: string): CaseRow | undefined {
    return this.db.prepare(`SELECT ${cols} FROM cases c WHERE c.lab_id = ? AND c.case_number = ?`).get(labId, caseNumber) as CaseRow | undefined;
  }

  search(labId: number, q: string | undefined, limit: number): CaseRow[] {
    if (!q) return this.db.prepare(`SELECT ${cols} FROM cases c WHERE c.lab_id = ? ORDER BY c.created_at DESC, c.id DESC LIMIT ?`).all(labId, limit) as CaseRow[];
    // Exact and prefix matches on the case number first: that is what someone typing a number wants.
    return this.db
      .prepare(
        `SELECT ${cols} FROM cases c WHERE c.lab_id = @labId AND (c.case_number LIKE @q ESCAPE '\\' OR c.description LIKE @q ESCAPE '\\')
         ORDER BY (c.case_number = @exact) DESC, (c.case_number LIKE @prefix ESCAPE '\\') DESC, c.case_number LIMIT @limit`,
      )
      .all({ labId, q: likePattern(q), exact: q, prefix: `${likePattern(q).slice(1)}`, limit }) as CaseRow[];
  }

  /** Rename a case or change its description; the caller has checked the new number is free. */
  update(labId: number, id: number, change: { caseNumber?: string; description?: string }): CaseRow | undefined {
    const c = this.byId(labId, id);
    if (!c) return undefined;
    this.db.prepare('UPDATE cases SET case_number = ?, description = ? WHERE lab_id = ? AND id = ?').run(change.caseNumber ?? c.caseNumber, change.description ?? c.description, labId, id);
    return this.byId(labId, id);
  }

  /** Link scans (all of which the caller has verified to be in `labId`); already linked ones are kept. */
  link(labId: number, caseId: number, scanIds: number[]): void {
    const ins = this.db.prepare('INSERT OR IGNORE INTO case_scans (case_id, scan_id, lab_id) VALUES (?, ?, ?)');
    this.db.transaction(() => {
      for (const id of scanIds) ins.run(caseId, id, labId);
    })();
  }

  unlink(labId: number, caseId: number, scanId: number): boolean {
    return this.db.prepare('DELETE FROM case_scans WHERE lab_id = ? AND case_id = ? AND scan_id = ?').run(labId, caseId, scanId).changes > 0;
  }

  scanIds(labId: number, caseId: number): number[] {
    const rows = this.db.prepare('SELECT scan_id AS id FROM case_scans WHERE lab_id = ? AND case_id = ? ORDER BY linked_at, scan_id').all(labId, caseId) as { id: number }[];
    return rows.map((r) => r.id);
  }
}
