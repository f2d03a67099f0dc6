import type { Database } from 'better-sqlite3';

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

const cols = `t.id, t.user_id AS userId, t.lab_id AS labId, l.name AS labName, t.name, t.created_at AS createdAt, t.last_used_at AS lastUsedAt`;
const from = 'FROM api_tokens t JOIN labs l ON l.id = t.lab_id';

/** Tokens a user made for scripts (`wsi-import upload --token-file`): one lab each, revocable. */
export class ApiTokenRepo {
  constructor(private readonly db: Database) {}

  create(userId: number, labId: number, name: string, tokenHash: string): ApiTokenRow {
    const r = this.db.prepare('INSERT INTO api_tokens (user_id, lab_id, name, token_hash) VALUES (?, ?, ?, ?)').run(userId, labId, name, tokenHash);
    return this.db.prepare(`SELECT ${cols} ${from} WHERE t.id = ?`).get(Number(r.lastInsertRowid)) as ApiTokenRow;
  }

  /** The user's tokens that still work (not revoked), newest first. */
  listForUser(userId: number): ApiTokenRow[] {
    return this.db.prepare(`SELECT ${cols} ${from} WHERE t.user_id = ? AND t.revoked_at IS NULL ORDER BY t.id DESC`).all(userId) as ApiTokenRow[];
  }

  /** How many unrevoked tokens the user has (creation is capped). */
  countForUser(userId: number): number {
    return (this.db.prepare('SELECT count(*) AS n FROM api_tokens WHERE user_id = ? AND revoked_at IS NULL').get(userId) as { n: number }).n;
  }

  /** The unrevoked token with this hash (a lookup by hash: no timing leak to compare against). */
  live(tokenHash: string): ApiTokenRow | undefined {
    return this.db.prepare(`SELECT ${cols} ${from} WHERE t.token_hash = ? AND t.revoked_at IS NULL`).get(tokenHash) as ApiTokenRow | undefined;
  }

  /** Revoke one of the user's own tokens; false when it is not theirs, unknown or already revoked. */
  revoke(userId: number, id: number): boolean {
    return this.db.prepare(`UPDATE api_tokens SET revoked_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ? AND user_id = ? AND revoked_at IS NULL`).run(id, userId).changes === 1;
  }

  touch(id: number, at: string): void {
    this.db.prepare('UPDATE api_tokens SET last_used_at = ? WHERE id = ?').run(at, id);
  }
}
