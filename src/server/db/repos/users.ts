import type { Ctx } from './context.ts';
import { changed, now } from './context.ts';

export interface User {
  id: number;
  username: string;
  displayName: string;
}

/** A user with the account state the server acts on (never sent as is: no hash here). */
export interface Account extends User {
  /** A role above labs: may add existing users to any lab directly and administer every lab's members. */
  platformAdmin: boolean;
  /** The lab the user last chose (null: never chose, or that lab is gone). */
  currentLabId: number | null;
  /** Signed in with a reset's temporary password: only changing the password is allowed. */
  mustChangePassword: boolean;
  /** Deactivated by an admin: cannot sign in, has no sessions (ISO time; null: active). */
  deactivatedAt: string | null;
}

export interface Credentials extends Account {
  passwordHash: string;
  /** While a reset's temporary password is unused: when it stops working (ms since epoch). */
  temporaryPasswordExpiresAt: number | null;
}

interface Row {
  id: number;
  username: string;
  displayName: string;
  passwordHash: string;
  platformAdmin: number;
  currentLabId: number | null;
  mustChangePassword: number;
  temporaryPasswordExpiresAt: number | null;
  deactivatedAt: string | null;
}

const cols = [
  'id', 'username', 'display_name as displayName', 'password_hash as passwordHash', 'platform_admin as platformAdmin',
  'current_lab_id as currentLabId', 'must_change_password as mustChangePassword', 'temporary_password_expires_at as temporaryPasswordExpiresAt',
  'deactivated_at as deactivatedAt',
] as const;

function credentials(r: Row): Credentials {
  return {
    id: r.id,
    username: r.username,
    displayName: r.displayName,
    platformAdmin: r.platformAdmin === 1,
    currentLabId: r.currentLabId,
    mustChangePassword: r.mustChangePassword === 1,
    deactivatedAt: r.deactivatedAt,
    passwordHash: r.passwordHash,
    temporaryPasswordExpiresAt: r.temporaryPasswordExpiresAt,
  };
}

function account(r: Row): Account {
  const { passwordHash: _h, temporaryPasswordExpiresAt: _t, ...rest } = credentials(r);
  return rest;
}

/**
 * Users are global (one login across labs); what they may do is per lab (memberships). Usernames
 * compare without case on both databases (SQLite COLLATE NOCASE, PostgreSQL citext).
 */
export class UserRepo {
  constructor(private readonly c: Ctx) {}

  async create(username: string, displayName: string, passwordHash: string, opts: { platformAdmin?: boolean; currentLabId?: number } = {}): Promise<User> {
    const r = await this.c.db
      .insertInto('users')
      .values({ username, display_name: displayName, password_hash: passwordHash, platform_admin: opts.platformAdmin ? 1 : 0, current_lab_id: opts.currentLabId ?? null })
      .returning('id')
      .executeTakeFirstOrThrow();
    return { id: r.id, username, displayName };
  }

  async byId(id: number): Promise<Account | undefined> {
    const r = await this.c.db.selectFrom('users').select(cols).where('id', '=', id).executeTakeFirst();
    return r && account(r);
  }

  /** Including the password hash: for password checks only. */
  async credentialsByUsername(username: string): Promise<Credentials | undefined> {
    const r = await this.c.db.selectFrom('users').select(cols).where('username', '=', username).executeTakeFirst();
    return r && credentials(r);
  }

  async credentialsById(id: number): Promise<Credentials | undefined> {
    const r = await this.c.db.selectFrom('users').select(cols).where('id', '=', id).executeTakeFirst();
    return r && credentials(r);
  }

  async exists(username: string): Promise<boolean> {
    return (await this.c.db.selectFrom('users').select('id').where('username', '=', username).executeTakeFirst()) !== undefined;
  }

  async count(): Promise<number> {
    const r = await this.c.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /** Remember the lab the user chose, for their next sign-in. */
  async setCurrentLab(userId: number, labId: number | null): Promise<void> {
    await this.c.db.updateTable('users').set({ current_lab_id: labId }).where('id', '=', userId).execute();
  }

  async setPlatformAdmin(userId: number, on: boolean): Promise<void> {
    await this.c.db.updateTable('users').set({ platform_admin: on ? 1 : 0 }).where('id', '=', userId).execute();
  }

  /** A password the user chose: any pending reset is over. */
  async setPassword(userId: number, passwordHash: string): Promise<void> {
    await this.c.db.updateTable('users').set({ password_hash: passwordHash, must_change_password: 0, temporary_password_expires_at: null }).where('id', '=', userId).execute();
  }

  /** A reset: the temporary password replaces the old one, works for one sign-in until `expiresAt`, then must be changed. */
  async setTemporaryPassword(userId: number, passwordHash: string, expiresAt: number): Promise<void> {
    await this.c.db.updateTable('users').set({ password_hash: passwordHash, must_change_password: 1, temporary_password_expires_at: expiresAt }).where('id', '=', userId).execute();
  }

  /**
   * A new account that signs in with a one-time password (shown once to whoever created it) and
   * must then choose its own, as after a reset.
   */
  async createWithTemporaryPassword(username: string, displayName: string, passwordHash: string, expiresAt: number, opts: { platformAdmin?: boolean; currentLabId?: number } = {}): Promise<User> {
    const user = await this.create(username, displayName, passwordHash, opts);
    await this.c.db.updateTable('users').set({ must_change_password: 1, temporary_password_expires_at: expiresAt }).where('id', '=', user.id).execute();
    return user;
  }

  /** Deactivate (true) or reactivate (false). Ending the sessions is the caller's part (same transaction). */
  async setDeactivated(userId: number, deactivated: boolean): Promise<void> {
    await this.c.db
      .updateTable('users')
      .set((eb) => ({ deactivated_at: deactivated ? eb.fn.coalesce('deactivated_at', now(this.c)) : null }))
      .where('id', '=', userId)
      .execute();
  }

  /** Every account with its labs and roles, by username (the operator command's list). */
  async listWithLabs(): Promise<(Account & { labs: { name: string; role: string }[] })[]> {
    const rows = await this.c.db.selectFrom('users').select(cols).orderBy('username').orderBy('id').execute();
    const out: (Account & { labs: { name: string; role: string }[] })[] = [];
    for (const r of rows) {
      const labs = await this.c.db
        .selectFrom('memberships as m')
        .innerJoin('labs as l', 'l.id', 'm.lab_id')
        .select(['l.name', 'm.role'])
        .where('m.user_id', '=', r.id)
        .orderBy('l.name')
        .execute();
      out.push({ ...account(r), labs });
    }
    return out;
  }

  /**
   * The temporary password has been used to sign in: it works no more for signing in (the session
   * it opened may still set the new password). False when it was already used or has expired, so
   * two sign-ins racing with the same temporary password cannot both succeed.
   */
  async consumeTemporaryPassword(userId: number, nowMs: number): Promise<boolean> {
    const r = await this.c.db
      .updateTable('users')
      .set({ temporary_password_expires_at: null })
      .where('id', '=', userId)
      .where('must_change_password', '=', 1)
      .where('temporary_password_expires_at', '>', nowMs)
      .executeTakeFirst();
    return changed(r) === 1;
  }
}
