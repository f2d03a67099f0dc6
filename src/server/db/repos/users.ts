import type { Database } from 'better-sqlite3';

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

const cols = `id, username, display_name AS displayName, password_hash AS passwordHash, platform_admin AS platformAdmin,
  current_lab_id AS currentLabId, must_change_password AS mustChangePassword, temporary_password_expires_at AS temporaryPasswordExpiresAt,
  deactivated_at AS deactivatedAt`;

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

/** Users are global (one login across labs); what they may do is per lab (memberships). */
export class UserRepo {
  constructor(private readonly db: Database) {}

  create(username: string, displayName: string, passwordHash: string, opts: { platformAdmin?: boolean; currentLabId?: number } = {}): User {
    const r = this.db
      .prepare('INSERT INTO users (username, display_name, password_hash, platform_admin, current_lab_id) VALUES (?, ?, ?, ?, ?)')
      .run(username, displayName, passwordHash, opts.platformAdmin ? 1 : 0, opts.currentLabId ?? null);
    return { id: Number(r.lastInsertRowid), username, displayName };
  }

  byId(id: number): Account | undefined {
    const r = this.db.prepare(`SELECT ${cols} FROM users WHERE id = ?`).get(id) as Row | undefined;
    return r && account(r);
  }

  /** Including the password hash: for password checks only. */
  credentialsByUsername(username: string): Credentials | undefined {
    const r = this.db.prepare(`SELECT ${cols} FROM users WHERE username = ?`).get(username) as Row | undefined;
    return r && credentials(r);
  }

  credentialsById(id: number): Credentials | undefined {
    const r = this.db.prepare(`SELECT ${cols} FROM users WHERE id = ?`).get(id) as Row | undefined;
    return r && credentials(r);
  }

  exists(username: string): boolean {
    return this.db.prepare('SELECT 1 FROM users WHERE username = ?').get(username) !== undefined;
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM users').get() as { n: number }).n;
  }

  /** Remember the lab the user chose, for their next sign-in. */
  setCurrentLab(userId: number, labId: number | null): void {
    this.db.prepare('UPDATE users SET current_lab_id = ? WHERE id = ?').run(labId, userId);
  }

  setPlatformAdmin(userId: number, on: boolean): void {
    this.db.prepare('UPDATE users SET platform_admin = ? WHERE id = ?').run(on ? 1 : 0, userId);
  }

  /** A password the user chose: any pending reset is over. */
  setPassword(userId: number, passwordHash: string): void {
    this.db
      .prepare('UPDATE users SET password_hash = ?, must_change_password = 0, temporary_password_expires_at = NULL WHERE id = ?')
      .run(passwordHash, userId);
  }

  /** A reset: the temporary password replaces the old one, works for one sign-in until `expiresAt`, then must be changed. */
  setTemporaryPassword(userId: number, passwordHash: string, expiresAt: number): void {
    this.db
      .prepare('UPDATE users SET password_hash = ?, must_change_password = 1, temporary_password_expires_at = ? WHERE id = ?')
      .run(passwordHash, expiresAt, userId);
  }

  /**
   * A new account that signs in with a one-time password (shown once to whoever created it) and
   * must then choose its own, as after a reset.
   */
  createWithTemporaryPassword(username: string, displayName: string, passwordHash: string, expiresAt: number, opts: { platformAdmin?: boolean; currentLabId?: number } = {}): User {
    const user = this.create(username, displayName, passwordHash, opts);
    this.db.prepare('UPDATE users SET must_change_password = 1, temporary_password_expires_at = ? WHERE id = ?').run(expiresAt, user.id);
    return user;
  }

  /** Deactivate (true) or reactivate (false). Ending the sessions is the caller's part (same transaction). */
  setDeactivated(userId: number, deactivated: boolean): void {
    this.db.prepare(`UPDATE users SET deactivated_at = ${deactivated ? "coalesce(deactivated_at, strftime('%Y-%m-%dT%H:%M:%fZ','now'))" : 'NULL'} WHERE id = ?`).run(userId);
  }

  /** Every account with its labs and roles, by username (the operator command's list). */
  listWithLabs(): (Account & { labs: { name: string; role: string }[] })[] {
    const rows = this.db.prepare(`SELECT ${cols} FROM users ORDER BY username`).all() as Row[];
    const labsOf = this.db.prepare('SELECT l.name, m.role FROM memberships m JOIN labs l ON l.id = m.lab_id WHERE m.user_id = ? ORDER BY l.name');
    return rows.map((r) => ({ ...account(r), labs: labsOf.all(r.id) as { name: string; role: string }[] }));
  }

  /**
   * The temporary password has been used to sign in: it works no more for signing in (the session
   * it opened may still set the new password). False when it was already used or has expired, so
   * two sign-ins racing with the same temporary password cannot both succeed.
   */
  consumeTemporaryPassword(userId: number, now: number): boolean {
    return (
      this.db
        .prepare('UPDATE users SET temporary_password_expires_at = NULL WHERE id = ? AND must_change_password = 1 AND temporary_password_expires_at > ?')
        .run(userId, now).changes === 1
    );
  }
}
