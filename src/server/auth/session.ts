import { createHash, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerConfig } from '../config.ts';
import type { Repos } from '../db/repos/index.ts';
import type { LabMembership, Role } from '../db/repos/labs.ts';
import type { User } from '../db/repos/users.ts';
import { readCookie, serializeCookie } from '../http/cookies.ts';
import { storageFailureOf } from '../http/storage-errors.ts';
import { forbidden, notFound, unauthenticated } from '../http/api-error.ts';

export const sessionCookie = 'wsi_session';

export interface AuthContext {
  tokenHash: string;
  user: User;
  labs: LabMembership[];
  /** The lab the user is working in (chosen with POST /api/me/lab), null if they belong to none. */
  currentLab: LabMembership | null;
}

const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

/** Server-side sessions behind an opaque cookie; the database stores only the token's hash. */
export class Sessions {
  private readonly cache = new WeakMap<object, AuthContext | null>();
  constructor(
    private readonly repos: Repos,
    private readonly config: ServerConfig,
  ) {}

  private get ttlMs(): number {
    return this.config.sessionHours * 3600 * 1000;
  }

  private secure(req: FastifyRequest): boolean {
    return this.config.cookieSecure === 'auto' ? req.protocol === 'https' : this.config.cookieSecure;
  }

  start(req: FastifyRequest, reply: FastifyReply, user: User): AuthContext {
    const token = randomBytes(32).toString('base64url');
    const tokenHash = hashToken(token);
    const labs = this.repos.labs.membershipsOf(user.id);
    const now = Date.now();
    this.repos.sessions.create(tokenHash, user.id, labs[0]?.id ?? null, now, now + this.ttlMs);
    reply.header('set-cookie', serializeCookie(sessionCookie, token, { maxAgeSeconds: this.ttlMs / 1000, secure: this.secure(req) }));
    const ctx: AuthContext = { tokenHash, user, labs, currentLab: labs[0] ?? null };
    this.cache.set(req.raw, ctx);
    return ctx;
  }

  end(req: FastifyRequest, reply: FastifyReply): void {
    const token = readCookie(req.headers.cookie, sessionCookie);
    if (token) this.repos.sessions.delete(hashToken(token));
    this.cache.set(req.raw, null);
    reply.header('set-cookie', serializeCookie(sessionCookie, '', { maxAgeSeconds: 0, secure: this.secure(req) }));
  }

  /** The signed-in user of this request, or null. Memoised per raw request (the tus hooks reuse it). */
  get(req: FastifyRequest): AuthContext | null {
    const cached = this.cache.get(req.raw);
    if (cached !== undefined) return cached;
    const ctx = this.load(req);
    this.cache.set(req.raw, ctx);
    return ctx;
  }

  /** For code that only has the Node request (tus hooks). */
  fromRaw(raw: object): AuthContext | null {
    return this.cache.get(raw) ?? null;
  }

  private load(req: FastifyRequest): AuthContext | null {
    const token = readCookie(req.headers.cookie, sessionCookie);
    if (!token) return null;
    const tokenHash = hashToken(token);
    const now = Date.now();
    const row = this.repos.sessions.live(tokenHash, now);
    if (!row) return null;
    const user = this.repos.users.byId(row.userId);
    if (!user) return null;
    // Sliding expiry, written at most once per half lifetime to keep reads cheap.
    // Best effort: with the disk full the session is still valid, and reads (and resuming an
    // upload once space is freed) must keep working; the next request extends it.
    if (row.expiresAt - now < this.ttlMs / 2) {
      try {
        this.repos.sessions.touch(tokenHash, now + this.ttlMs);
      } catch (e) {
        if (!storageFailureOf(e)) throw e;
      }
    }
    const labs = this.repos.labs.membershipsOf(user.id);
    const currentLab = labs.find((l) => l.id === row.currentLabId) ?? labs[0] ?? null;
    return { tokenHash, user, labs, currentLab };
  }

  switchLab(ctx: AuthContext, labId: number): AuthContext {
    const lab = ctx.labs.find((l) => l.id === labId);
    if (!lab) throw notFound('lab not found');
    this.repos.sessions.setCurrentLab(ctx.tokenHash, labId);
    ctx.currentLab = lab;
    return ctx;
  }

  require(req: FastifyRequest): AuthContext {
    const ctx = this.get(req);
    if (!ctx) throw unauthenticated();
    return ctx;
  }
}

export const editorRoles: readonly Role[] = ['lab-admin', 'lab-user'];

/** The current lab, for reading. */
export function currentLab(ctx: AuthContext): LabMembership {
  if (!ctx.currentLab) throw forbidden('you are not a member of any lab');
  return ctx.currentLab;
}

/** The current lab, for changing things in it (viewers are read-only). */
export function editableLab(ctx: AuthContext): LabMembership {
  const lab = currentLab(ctx);
  if (!editorRoles.includes(lab.role)) throw forbidden('your role in this lab is read-only');
  return lab;
}

/** A lab the caller administers; other labs look nonexistent. */
export function administeredLab(ctx: AuthContext, labId: number): LabMembership {
  const lab = ctx.labs.find((l) => l.id === labId);
  if (!lab) throw notFound('lab not found');
  if (lab.role !== 'lab-admin') throw forbidden('only a lab admin may do this');
  return lab;
}

export function canImport(lab: LabMembership | null): boolean {
  return !!lab && editorRoles.includes(lab.role) && lab.features.includes('bulk-import');
}
