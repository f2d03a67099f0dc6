import { sql } from 'kysely';
import { inTransaction, now, type Ctx } from './context.ts';

export type Role = 'lab-admin' | 'lab-user' | 'viewer';
export const roles: readonly Role[] = ['lab-admin', 'lab-user', 'viewer'];
/** Feature flags a lab can have; the API rejects any other name. */
export const knownFeatures = ['bulk-import'] as const;
export type Feature = (typeof knownFeatures)[number];

export interface Lab {
  id: number;
  name: string;
}

export interface LabMembership extends Lab {
  role: Role;
  features: string[];
}

export interface LabMember {
  id: number;
  username: string;
  displayName: string;
  role: Role;
  /** When the account was deactivated (null: active). */
  deactivatedAt: string | null;
}

/** Labs, their feature flags and who belongs to them with which role. */
export class LabRepo {
  constructor(private readonly c: Ctx) {}

  async create(name: string): Promise<Lab> {
    const r = await this.c.db.insertInto('labs').values({ name }).returning('id').executeTakeFirstOrThrow();
    return { id: r.id, name };
  }

  byId(id: number): Promise<Lab | undefined> {
    return this.c.db.selectFrom('labs').select(['id', 'name']).where('id', '=', id).executeTakeFirst();
  }

  byName(name: string): Promise<Lab | undefined> {
    return this.c.db.selectFrom('labs').select(['id', 'name']).where('name', '=', name).executeTakeFirst();
  }

  async features(labId: number): Promise<string[]> {
    const rows = await this.c.db.selectFrom('lab_features').select('feature').where('lab_id', '=', labId).orderBy('feature').execute();
    return rows.map((r) => r.feature);
  }

  /** Replace the lab's flags with exactly `features`. */
  setFeatures(labId: number, features: readonly Feature[]): Promise<void> {
    return inTransaction(this.c, async (tx) => {
      await tx.db.deleteFrom('lab_features').where('lab_id', '=', labId).execute();
      const values = [...new Set(features)].map((feature) => ({ lab_id: labId, feature }));
      if (values.length > 0) await tx.db.insertInto('lab_features').values(values).execute();
    });
  }

  async setRole(labId: number, userId: number, role: Role): Promise<void> {
    await this.c.db
      .insertInto('memberships')
      .values({ user_id: userId, lab_id: labId, role })
      .onConflict((oc) => oc.columns(['user_id', 'lab_id']).doUpdateSet((eb) => ({ role: eb.ref('excluded.role') })))
      .execute();
  }

  async roleOf(labId: number, userId: number): Promise<Role | undefined> {
    const r = await this.c.db.selectFrom('memberships').select('role').where('lab_id', '=', labId).where('user_id', '=', userId).executeTakeFirst();
    return r?.role as Role | undefined;
  }

  /** The labs a user belongs to, with role and flags, in a stable order. */
  async membershipsOf(userId: number): Promise<LabMembership[]> {
    const rows = await this.c.db
      .selectFrom('memberships as m')
      .innerJoin('labs as l', 'l.id', 'm.lab_id')
      .select(['l.id', 'l.name', 'm.role'])
      .where('m.user_id', '=', userId)
      .orderBy('l.name')
      .orderBy('l.id')
      .execute();
    const out: LabMembership[] = [];
    for (const r of rows) out.push({ id: r.id, name: r.name, role: r.role as Role, features: await this.features(r.id) });
    return out;
  }

  private memberQuery(labId: number) {
    return this.c.db
      .selectFrom('memberships as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .select(['u.id', 'u.username', 'u.display_name as displayName', 'm.role', 'u.deactivated_at as deactivatedAt'])
      .where('m.lab_id', '=', labId);
  }

  async members(labId: number): Promise<LabMember[]> {
    return (await this.memberQuery(labId).orderBy('u.username').orderBy('u.id').execute()) as LabMember[];
  }

  async member(labId: number, userId: number): Promise<LabMember | undefined> {
    return (await this.memberQuery(labId).where('m.user_id', '=', userId).executeTakeFirst()) as LabMember | undefined;
  }

  /** Every lab with its member count (for platform admins). */
  async all(): Promise<(Lab & { members: number; features: string[] })[]> {
    const rows = await this.c.db
      .selectFrom('labs as l')
      .select((eb) => ['l.id', 'l.name', eb.selectFrom('memberships as m').select(eb.fn.countAll<number>().as('n')).whereRef('m.lab_id', '=', 'l.id').as('members')])
      .orderBy('l.name')
      .orderBy('l.id')
      .execute();
    const out: (Lab & { members: number; features: string[] })[] = [];
    for (const r of rows) out.push({ id: r.id, name: r.name, members: Number(r.members), features: await this.features(r.id) });
    return out;
  }

  /**
   * Inside a transaction: hold the lab's row until it ends, so read-then-write steps on one lab
   * (its last admin, its quota, creating a case by number) take turns. PostgreSQL needs the row
   * lock (NO KEY: inserts that reference the lab are not held up); SQLite has one writer anyway.
   */
  async lock(labId: number): Promise<void> {
    if (this.c.dialect === 'postgres') await sql`SELECT id FROM labs WHERE id = ${labId} FOR NO KEY UPDATE`.execute(this.c.db);
  }

  /** Lab admins of the lab other than `userId` whose accounts are active (a deactivated one cannot sign in to administer it). */
  async activeAdminsBesides(labId: number, userId: number): Promise<number> {
    const r = await this.c.db
      .selectFrom('memberships as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('m.lab_id', '=', labId)
      .where('m.role', '=', 'lab-admin')
      .where('m.user_id', '!=', userId)
      .where('u.deactivated_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /**
   * Change a member's role, or remove them (role null), unless that would leave the lab without a
   * lab admin. Check and write happen in one transaction, so two admins demoting each other at the
   * same moment cannot both succeed (the lab is locked first: lock()).
   */
  changeMembership(labId: number, userId: number, role: Role | null): Promise<'ok' | 'not-member' | 'last-admin'> {
    return inTransaction(this.c, async (tx): Promise<'ok' | 'not-member' | 'last-admin'> => {
      const repo = new LabRepo(tx);
      await repo.lock(labId);
      const current = await repo.roleOf(labId, userId);
      if (!current) return 'not-member';
      if (current === 'lab-admin' && role !== 'lab-admin') {
        if ((await repo.activeAdminsBesides(labId, userId)) === 0) return 'last-admin';
      }
      if (role === null) {
        await tx.db.deleteFrom('memberships').where('lab_id', '=', labId).where('user_id', '=', userId).execute();
        // Their API tokens for this lab end with the membership: being added back later must not
        // bring a forgotten token on some lab PC back to life.
        await tx.db.updateTable('api_tokens').set({ revoked_at: now(tx) }).where('lab_id', '=', labId).where('user_id', '=', userId).where('revoked_at', 'is', null).execute();
      } else await tx.db.updateTable('memberships').set({ role }).where('lab_id', '=', labId).where('user_id', '=', userId).execute();
      return 'ok';
    });
  }
}
