import type { Database } from 'better-sqlite3';

export interface SessionRow {
  tokenHash: string;
  userId: number;
  currentLabId: number | null;
  expiresAt: number;
}

/** Server-side sessions keyed by a hash of the cookie token (a leaked database holds no live cookies). */
export class SessionRepo {
  constructor(private readonly db: Database) {}

  create(tokenHash: string, userId: number, currentLabId: number | null, now: number, expiresAt: number): void {
    this.db.prepare('INSERT INTO sessions (token_hash, user_id, current_lab_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)').run(tokenHash, userId, currentLabId, now, expiresAt);
  }

  /** A session that has not expired at `now`. */
  live(tokenHash: string, now: number): SessionRow | undefined {
    return this.db
      .prepare('SELECT token_hash AS tokenHash, user_id AS userId, current_lab_id AS currentLabId, expires_at AS expiresAt FROM sessions WHERE token_hash = ? AND expires_at > ?')
      .get(tokenHash, now) as SessionRow | undefined;
  }

  touch(tokenHash: string, expiresAt: number): void {
    this.db.prepare('UPDATE sessions SET expires_at = ? WHERE token_hash = ?').run(expiresAt, tokenHash);
  }

  setCurrentLab(tokenHash: string, labId: number): void {
    this.db.prepare('UPDATE sessions SET current_lab_id = ? WHERE token_hash = ?').run(labId, tokenHash);
  }

  delete(tokenHash: string): void {
    this.db.prepare('DELETE FROM sessions WHERE token_hash = ?').run(tokenHash);
  }

  /** Every session of the user, except the one with `keepTokenHash` when given. */
  deleteForUser(userId: number, keepTokenHash?: string): number {
    return this.db.prepare('DELETE FROM sessions WHERE user_id = ? AND token_hash IS NOT ?').run(userId, keepTokenHash ?? null).changes;
  }

  deleteExpired(now: number): number {
    return this.db.prepare('DELETE FROM sessions WHERE expires_at <= ?').run(now).changes;
  }
}
