import type { Database } from 'better-sqlite3';
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

const select = `SELECT i.id, i.lab_id AS labId, l.name AS labName, i.username, i.role, u.display_name AS invitedBy,
  i.created_at AS createdAt, i.expires_at AS expiresAt
  FROM invitations i JOIN labs l ON l.id = i.lab_id LEFT JOIN users u ON u.id = i.invited_by`;

/**
 * Invitations to join a lab, addressed to a username (whether or not an account has that name, so
 * that inviting never tells a lab admin which accounts exist). The invited user accepts or declines
 * after signing in; nothing changes for them until they do.
 */
export class InvitationRepo {
  constructor(private readonly db: Database) {}

  /** Create, or renew (new role, new expiry) the lab's pending invitation for that username. */
  upsert(labId: number, username: string, role: Role, invitedBy: number, now: number): Invitation {
    this.db
      .prepare(
        `INSERT INTO invitations (lab_id, username, role, invited_by, expires_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (lab_id, username) DO UPDATE SET role = excluded.role, invited_by = excluded.invited_by,
           expires_at = excluded.expires_at, created_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')`,
      )
      .run(labId, username, role, invitedBy, now + invitationLifetimeMs);
    return this.db.prepare(`${select} WHERE i.lab_id = ? AND i.username = ?`).get(labId, username) as Invitation;
  }

  /** The lab's invitations still waiting for an answer. */
  pendingForLab(labId: number, now: number): Invitation[] {
    return this.db.prepare(`${select} WHERE i.lab_id = ? AND i.expires_at > ? ORDER BY i.username`).all(labId, now) as Invitation[];
  }

  /** Invitations waiting for this username, except to labs they already belong to. */
  pendingForUser(userId: number, username: string, now: number): Invitation[] {
    return this.db
      .prepare(`${select} WHERE i.username = ? AND i.expires_at > ? AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.lab_id = i.lab_id AND m.user_id = ?) ORDER BY l.name, i.id`)
      .all(username, now, userId) as Invitation[];
  }

  /** One pending invitation addressed to this username (others' invitations do not exist for them). */
  pendingForUserById(id: number, username: string, now: number): Invitation | undefined {
    return this.db.prepare(`${select} WHERE i.id = ? AND i.username = ? AND i.expires_at > ?`).get(id, username, now) as Invitation | undefined;
  }

  /** One of the lab's invitations, pending or lapsed. */
  forLab(labId: number, id: number): Invitation | undefined {
    return this.db.prepare(`${select} WHERE i.lab_id = ? AND i.id = ?`).get(labId, id) as Invitation | undefined;
  }

  delete(id: number): boolean {
    return this.db.prepare('DELETE FROM invitations WHERE id = ?').run(id).changes === 1;
  }

  /** Lapsed invitations are only clutter. */
  deleteExpired(now: number): number {
    return this.db.prepare('DELETE FROM invitations WHERE expires_at <= ?').run(now).changes;
  }
}
