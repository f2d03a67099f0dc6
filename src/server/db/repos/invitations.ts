import { changed, now, type Ctx } from './context.ts';
import type { Role } from './labs.ts';

/** How long an invitation waits for an answer before it lapses. */
export const invitationLifetimeMs = 14 * 24 * 3600 * 1000;

export interface Invitation {
  id: number;
  labId: number;
  labName: string;
  username: string;
  role: Role;
  invitedBy: string | null;
  createdAt: string;
  /** ms since epoch */
  expiresAt: number;
}

/**
 * Invitations to join a lab, addressed to a username (whether or not an account has that name, so
 * that inviting never tells a lab admin which accounts exist). The invited user accepts or declines
 * after signing in; nothing changes for them until they do. Usernames compare without case.
 */
export class InvitationRepo {
  constructor(private readonly c: Ctx) {}

  private select() {
    return this.c.db
      .selectFrom('invitations as i')
      .innerJoin('labs as l', 'l.id', 'i.lab_id')
      .leftJoin('users as u', 'u.id', 'i.invited_by')
      .select(['i.id', 'i.lab_id as labId', 'l.name as labName', 'i.username', 'i.role', 'u.display_name as invitedBy', 'i.created_at as createdAt', 'i.expires_at as expiresAt'])
      .$castTo<Invitation>();
  }

  /** Create, or renew (new role, new expiry) the lab's pending invitation for that username. */
  async upsert(labId: number, username: string, role: Role, invitedBy: number, nowMs: number): Promise<Invitation> {
    await this.c.db
      .insertInto('invitations')
      .values({ lab_id: labId, username, role, invited_by: invitedBy, expires_at: nowMs + invitationLifetimeMs })
      .onConflict((oc) =>
        oc.columns(['lab_id', 'username']).doUpdateSet((eb) => ({
          role: eb.ref('excluded.role'),
          invited_by: eb.ref('excluded.invited_by'),
          expires_at: eb.ref('excluded.expires_at'),
          created_at: now(this.c),
        })),
      )
      .execute();
    return this.select().where('i.lab_id', '=', labId).where('i.username', '=', username).executeTakeFirstOrThrow();
  }

  /** The lab's invitations still waiting for an answer. */
  pendingForLab(labId: number, nowMs: number): Promise<Invitation[]> {
    return this.select().where('i.lab_id', '=', labId).where('i.expires_at', '>', nowMs).orderBy('i.username').orderBy('i.id').execute();
  }

  /** Invitations waiting for this username, except to labs they already belong to. */
  pendingForUser(userId: number, username: string, nowMs: number): Promise<Invitation[]> {
    return this.select()
      .where('i.username', '=', username)
      .where('i.expires_at', '>', nowMs)
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('memberships as m').select('m.lab_id').whereRef('m.lab_id', '=', 'i.lab_id').where('m.user_id', '=', userId))))
      .orderBy('l.name')
      .orderBy('i.id')
      .execute();
  }

  /** One pending invitation addressed to this username (others' invitations do not exist for them). */
  pendingForUserById(id: number, username: string, nowMs: number): Promise<Invitation | undefined> {
    return this.select().where('i.id', '=', id).where('i.username', '=', username).where('i.expires_at', '>', nowMs).executeTakeFirst();
  }

  /** One of the lab's invitations, pending or lapsed. */
  forLab(labId: number, id: number): Promise<Invitation | undefined> {
    return this.select().where('i.lab_id', '=', labId).where('i.id', '=', id).executeTakeFirst();
  }

  async delete(id: number): Promise<boolean> {
    return changed(await this.c.db.deleteFrom('invitations').where('id', '=', id).executeTakeFirst()) === 1;
  }

  /** Lapsed invitations are only clutter. */
  async deleteExpired(nowMs: number): Promise<number> {
    return changed(await this.c.db.deleteFrom('invitations').where('expires_at', '<=', nowMs).executeTakeFirst());
  }
}
