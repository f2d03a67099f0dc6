import { changed, now, type Ctx } from './context.ts';

/** A per-user API token (issue 14) as the server keeps it: never the token, only its SHA-256. */
export interface ApiTokenRow {
  id: number;
  userId: number;
  labId: number;
  labName: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
}

/** Tokens a user made for scripts (`wsi-import upload --token-file`): one lab each, revocable. */
export class ApiTokenRepo {
  constructor(private readonly c: Ctx) {}

  private select() {
    return this.c.db
      .selectFrom('api_tokens as t')
      .innerJoin('labs as l', 'l.id', 't.lab_id')
      .select(['t.id', 't.user_id as userId', 't.lab_id as labId', 'l.name as labName', 't.name', 't.created_at as createdAt', 't.last_used_at as lastUsedAt']);
  }

  async create(userId: number, labId: number, name: string, tokenHash: string): Promise<ApiTokenRow> {
    const r = await this.c.db.insertInto('api_tokens').values({ user_id: userId, lab_id: labId, name, token_hash: tokenHash }).returning('id').executeTakeFirstOrThrow();
    return this.select().where('t.id', '=', r.id).executeTakeFirstOrThrow();
  }

  /** The user's tokens that still work (not revoked), newest first. */
  listForUser(userId: number): Promise<ApiTokenRow[]> {
    return this.select().where('t.user_id', '=', userId).where('t.revoked_at', 'is', null).orderBy('t.id', 'desc').execute();
  }

  /** How many unrevoked tokens the user has (creation is capped). */
  async countForUser(userId: number): Promise<number> {
    const r = await this.c.db.selectFrom('api_tokens').select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', userId).where('revoked_at', 'is', null).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /** The unrevoked token with this hash (a lookup by hash: no timing leak to compare against). */
  live(tokenHash: string): Promise<ApiTokenRow | undefined> {
    return this.select().where('t.token_hash', '=', tokenHash).where('t.revoked_at', 'is', null).executeTakeFirst();
  }

  /** Revoke one of the user's own tokens; false when it is not theirs, unknown or already revoked. */
  async revoke(userId: number, id: number): Promise<boolean> {
    const r = await this.c.db.updateTable('api_tokens').set({ revoked_at: now(this.c) }).where('id', '=', id).where('user_id', '=', userId).where('revoked_at', 'is', null).executeTakeFirst();
    return changed(r) === 1;
  }

  async touch(id: number, at: string): Promise<void> {
    await this.c.db.updateTable('api_tokens').set({ last_used_at: at }).where('id', '=', id).execute();
  }
}
