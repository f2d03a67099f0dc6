import type { Database } from 'better-sqlite3';

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
  constructor(private readonly db: Database) {}

  create(name: string): Lab {
    const r = this.db.prepare('INSERT INTO labs (name) VALUES (?)').run(name);
    return { id: Number(r.lastInsertRowid), name };
  }

  byId(id: number): Lab | undefined {
    return this.db.prepare('SELECT id, name FROM labs WHERE id = ?').get(id) as Lab | undefined;
  }

  byName(name: string): Lab | undefined {
    return this.db.prepare('SELECT id, name FROM labs WHERE name = ?').get(name) as Lab | undefined;
  }

  features(labId: number): string[] {
    const rows = this.db.prepare('SELECT feature FROM lab_features WHERE lab_id = ? ORDER BY feature').all(labId) as { feature: string }[];
    return rows.map((r) => r.feature);
  }

  /** Replace the lab's flags with exactly `features`. */
  setFeatures(labId: number, features: readonly Feature[]): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM lab_features WHERE lab_id = ?').run(labId);
      const ins = this.db.prepare('INSERT INTO lab_features (lab_id, feature) VALUES (?, ?)');
      for (const f of new Set(features)) ins.run(labId, f);
    })();
  }

  setRole(labId: number, userId: number, role: Role): void {
    this.db
      .prepare('INSERT INTO memberships (user_id, lab_id, role) VALUES (?, ?, ?) ON CONFLICT (user_id, lab_id) DO UPDATE SET role = excluded.role')
      .run(userId, labId, role);
  }

  roleOf(labId: number, userId: number): Role | undefined {
    const r = this.db.prepare('SELECT role FROM memberships WHERE lab_id = ? AND user_id = ?').get(labId, userId) as { role: Role } | undefined;
    return r?.role;
  }

  /** The labs a user belongs to, with role and flags, in a stable order. */
  membershipsOf(userId: number): LabMembership[] {
    const rows = this.db
      .prepare('SELECT l.id, l.name, m.role FROM memberships m JOIN labs l ON l.id = m.lab_id WHERE m.user_id = ? ORDER BY l.name, l.id')
      .all(userId) as { id: number; name: string; role: Role }[];
    return rows.map((r) => ({ ...r, features: this.features(r.id) }));
  }

  members(labId: number): LabMember[] {
    return this.db
      .prepare('SELECT u.id, u.username, u.display_name AS displayName, m.role, u.deactivated_at AS deactivatedAt FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.lab_id = ? ORDER BY u.username')
      .all(labId) as LabMember[];
  }

  member(labId: number, userId: number): LabMember | undefined {
    return this.db
      .prepare('SELECT u.id, u.username, u.display_name AS displayName, m.role, u.deactivated_at AS deactivatedAt FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.lab_id = ? AND m.user_id = ?')
      .get(labId, userId) as LabMember | undefined;
  }

  /** Every lab with its member count (for platform admins). */
  all(): (Lab & { members: number; features: string[] })[] {
    const rows = this.db
      .prepare('SELECT l.id, l.name, (SELECT count(*) FROM memberships m WHERE m.lab_id = l.id) AS members FROM labs l ORDER BY l.name, l.id')
      .all() as (Lab & { members: number })[];
    return rows.map((r) => ({ ...r, features: this.features(r.id) }));
  }

  /** Lab admins of the lab other than `userId` whose accounts are active (a deactivated one cannot sign in to administer it). */
  activeAdminsBesides(labId: number, userId: number): number {
    return (
      this.db
        .prepare("SELECT count(*) AS n FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.lab_id = ? AND m.role = 'lab-admin' AND m.user_id != ? AND u.deactivated_at IS NULL")
        .get(labId, userId) as { n: number }
    ).n;
  }

  /**
   * Change a member's role, or remove them (role null), unless that would leave the lab without a
   * lab admin. Check and write happen in one transaction, so two admins demoting each other at the
   * same moment cannot both succeed. 'not-member' when the user does not belong to the lab.
   */
  changeMembership(labId: number, userId: number, role: Role | null): 'ok' | 'not-member' | 'last-admin' {
    return this.db.transaction((): 'ok' | 'not-member' | 'last-admin' => {
      const current = this.roleOf(labId, userId);
      if (!current) return 'not-member';
      if (current === 'lab-admin' && role !== 'lab-admin') {
        if (this.activeAdminsBesides(labId, userId) === 0) return 'last-admin';
      }
      if (role === null) {
        this.db.prepare('DELETE FROM memberships WHERE lab_id = ? AND user_id = ?').run(labId, userId);
        // Their API tokens for this lab end with the membership: being added back later must not
        // bring a forgotten token on some lab PC back to life.
        this.db.prepare("UPDATE api_tokens SET revoked_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE lab_id = ? AND user_id = ? AND revoked_at IS NULL").run(labId, userId);
      }
      else this.db.prepare('UPDATE memberships SET role = ? WHERE lab_id = ? AND user_id = ?').run(role, labId, userId);
      return 'ok';
    }).immediate();
  }
}
