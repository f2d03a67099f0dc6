import { sql } from 'kysely';
import { changed, inTransaction, likeSql, type Ctx } from './context.ts';
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

/** Cases of a lab and the scans linked to them; a link never crosses labs. */
export class CaseRepo {
  constructor(private readonly c: Ctx) {}

  private select() {
    return this.c.db
      .selectFrom('cases as c')
      .select((eb) => [
        'c.id', 'c.lab_id as labId', 'c.case_number as caseNumber', 'c.description', 'c.created_by as createdBy', 'c.created_at as createdAt',
        eb.selectFrom('case_scans as cs').select(eb.fn.countAll<number>().as('n')).whereRef('cs.case_id', '=', 'c.id').as('scanCount'),
      ])
      .$castTo<CaseRow>();
  }

  async create(labId: number, caseNumber: string, description: string, createdBy: number | null): Promise<CaseRow> {
    const r = await this.c.db.insertInto('cases').values({ lab_id: labId, case_number: caseNumber, description, created_by: createdBy }).returning('id').executeTakeFirstOrThrow();
    return (await this.byId(labId, r.id))!;
  }

  byId(labId: number, id: number): Promise<CaseRow | undefined> {
    return this.select().where('c.lab_id', '=', labId).where('c.id', '=', id).executeTakeFirst();
  }

  byNumber(labId: number, caseNumber: string): Promise<CaseRow | undefined> {
    return this.select().where('c.lab_id', '=', labId).where('c.case_number', '=', caseNumber).executeTakeFirst();
  }

  search(labId: number, q: string | undefined, limit: number): Promise<CaseRow[]> {
    if (!q) return this.select().where('c.lab_id', '=', labId).orderBy('c.created_at', 'desc').orderBy('c.id', 'desc').limit(limit).execute();
    const pattern = likePattern(q);
    const num = sql.ref('c.case_number');
    // Exact and prefix matches on the case number first: that is what someone typing a number wants.
    return this.select()
      .where('c.lab_id', '=', labId)
      .where(sql<boolean>`(${likeSql(this.c, num, pattern)} OR ${likeSql(this.c, sql.ref('c.description'), pattern)})`)
      .orderBy(sql`(c.case_number = ${q})`, 'desc')
      .orderBy(sql`(${likeSql(this.c, num, pattern.slice(1))})`, 'desc')
      .orderBy('c.case_number')
      .orderBy('c.id')
      .limit(limit)
      .execute();
  }

  /** Rename a case or change its description; the caller has checked the new number is free. */
  async update(labId: number, id: number, change: { caseNumber?: string; description?: string }): Promise<CaseRow | undefined> {
    const c = await this.byId(labId, id);
    if (!c) return undefined;
    await this.c.db
      .updateTable('cases')
      .set({ case_number: change.caseNumber ?? c.caseNumber, description: change.description ?? c.description })
      .where('lab_id', '=', labId)
      .where('id', '=', id)
      .execute();
    return this.byId(labId, id);
  }

  /** Link scans (all of which the caller has verified to be in `labId`); already linked ones are kept. */
  link(labId: number, caseId: number, scanIds: number[]): Promise<void> {
    return inTransaction(this.c, async (tx) => {
      for (const id of scanIds) {
        await tx.db.insertInto('case_scans').values({ case_id: caseId, scan_id: id, lab_id: labId }).onConflict((oc) => oc.doNothing()).execute();
      }
    });
  }

  async unlink(labId: number, caseId: number, scanId: number): Promise<boolean> {
    return changed(await this.c.db.deleteFrom('case_scans').where('lab_id', '=', labId).where('case_id', '=', caseId).where('scan_id', '=', scanId).executeTakeFirst()) > 0;
  }

  async scanIds(labId: number, caseId: number): Promise<number[]> {
    const rows = await this.c.db.selectFrom('case_scans').select('scan_id as id').where('lab_id', '=', labId).where('case_id', '=', caseId).orderBy('linked_at').orderBy('scan_id').execute();
    return rows.map((r) => r.id);
  }
}
