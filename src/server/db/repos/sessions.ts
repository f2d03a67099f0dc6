import type { Ctx } from './context.ts';
import { changed } from './context.ts';

export interface SessionRow {
  tokenHash: string;
  userId: number;
  currentLabId: number | null;
  expiresAt: number;
}

/** Server-side sessions keyed by a hash of the cookie token (a leaked database holds no live cookies). */
export class SessionRepo {
  constructor(private readonly c: Ctx) {}

  async create(tokenHash: string, userId: number, currentLabId: number | null, nowMs: number, expiresAt: number): Promise<void> {
    await this.c.db.insertInto('sessions').values({ token_hash: tokenHash, user_id: userId, current_lab_id: currentLabId, created_at: nowMs, expires_at: expiresAt }).execute();
  }

  /** A session that has not expired at `nowMs`. */
  live(tokenHash: string, nowMs: number): Promise<SessionRow | undefined> {
    return this.c.db
      .selectFrom('sessions')
      .select(['token_hash as tokenHash', 'user_id as userId', 'current_lab_id as currentLabId', 'expires_at as expiresAt'])
      .where('token_hash', '=', tokenHash)
      .where('expires_at', '>', nowMs)
      .executeTakeFirst();
  }

  async touch(tokenHash: string, expiresAt: number): Promise<void> {
    await this.c.db.updateTable('sessions').set({ expires_at: expiresAt }).where('token_hash', '=', tokenHash).execute();
  }

  async setCurrentLab(tokenHash: string, labId: number): Promise<void> {
    await this.c.db.updateTable('sessions').set({ current_lab_id: labId }).where('token_hash', '=', tokenHash).execute();
  }

  async delete(tokenHash: string): Promise<void> {
    await this.c.db.deleteFrom('sessions').where('token_hash', '=', tokenHash).execute();
  }

  /** Every session of the user, except the one with `keepTokenHash` when given. */
  async deleteForUser(userId: number, keepTokenHash?: string): Promise<number> {
    let q = this.c.db.deleteFrom('sessions').where('user_id', '=', userId);
    if (keepTokenHash !== undefined) q = q.where('token_hash', '!=', keepTokenHash);
    return changed(await q.executeTakeFirst());
  }

  async deleteExpired(nowMs: number): Promise<number> {
    return changed(await this.c.db.deleteFrom('sessions').where('expires_at', '<=', nowMs).executeTakeFirst());
  }
}
