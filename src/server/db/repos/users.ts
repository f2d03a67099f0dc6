import type { Database } from 'better-sqlite3';

export interface User {
  id: number;
  username: string;
  displayName: string;
}

interface UserRow extends User {
  passwordHash: string;
}

const cols = 'id, username, display_name AS displayName, password_hash AS passwordHash';

/** Users are global (one login across labs); what they may do is per lab (memberships). */
export class UserRepo {
  constructor(private readonly db: Database) {}

  create(username: string, displayName: string, passwordHash: string): User {
    const r = this.db.prepare('INSERT INTO users (username, display_name, password_hash) VALUES (?, ?, ?)').run(username, displayName, passwordHash);
    return { id: Number(r.lastInsertRowid), username, displayName };
  }

  byId(id: number): User | undefined {
    const r = this.db.prepare(`SELECT ${cols} FROM users WHERE id = ?`).get(id) as UserRow | undefined;
    return r && { id: r.id, username: r.username, displayName: r.displayName };
  }

  /** Including the password hash: for the login check only. */
  credentialsByUsername(username: string): UserRow | undefined {
    return this.db.prepare(`SELECT ${cols} FROM users WHERE username = ?`).get(username) as UserRow | undefined;
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM users').get() as { n: number }).n;
  }
}
