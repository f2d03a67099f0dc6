import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServerConfig } from '../config.ts';
import type { Repos } from '../db/repos/index.ts';
import type { Lab, LabMembership, Role } from '../db/repos/labs.ts';
import type { Account, User } from '../db/repos/users.ts';
import { readCookie, serializeCookie } from '../http/cookies.ts';
import { storageFailureOf } from '../http/storage-errors.ts';
import { ApiError, forbidden, notFound, unauthenticated } from '../http/api-error.ts';
import { opsPaths } from '../ops/routes.ts';

export const sessionCookie = 'wsi_session';

export interface AuthContext {
  tokenHash: string;
  user: Account;
  labs: LabMembership[];
  /**
   * The lab the user is working in: the one this session chose (POST /api/me/lab), else the one the
   * user last chose in any session, else their only lab. Null when they belong to none, or to
   * several without having chosen (never the first by name: an upload must not land in a lab the
   * user did not pick).
   */
  currentLab: LabMembership | null;
  /**
   * Authenticated by an API token (Authorization: Bearer, issue 14), not a session: the user works
   * in the token's lab only, and only within the token's scope (auth/token-scope.ts).
   */
  viaToken?: boolean;
  /** The API token's id when viaToken. */
  apiTokenId?: number;
}

/** Prefix of every API token: recognisable in a config file or a leaked log, and by secret scanners. */
export const apiTokenPrefix = 'wsi_';

/** The token of an `Authorization: Bearer <token>` header; undefined when the request has none. */
export function bearerToken(req: { headers: Record<string, string | string[] | undefined> }): string | undefined {
  const h = req.headers.authorization;
  const v = Array.isArray(h) ? h[0] : h;
  if (v === undefined) return undefined;
  const m = /^Bearer[ \t]+(\S+)\s*$/i.exec(v);
  // A malformed Authorization header counts as a bad token (401), never as no header.
  return m ? m[1]! : '';
}

/** Whether the request tries bearer authentication at all (scheme Bearer). */
export function hasBearer(req: { headers: Record<string, string | string[] | undefined> }): boolean {
  const h = req.headers.authorization;
  const v = Array.isArray(h) ? h[0] : h;
  return v !== undefined && /^Bearer(\s|$)/i.test(v);
}

/** The lab a session starts in: the user's remembered choice if they still belong to it, else their only lab. */
function defaultLab(user: Account, labs: LabMembership[]): LabMembership | null {
  return labs.find((l) => l.id === user.currentLabId) ?? (labs.length === 1 ? labs[0] : null);
}

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

/** last_used_at of an API token is written at most this often (reads stay cheap for a busy script). */
const tokenTouchMs = 60 * 1000;

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

  async start(req: FastifyRequest, reply: FastifyReply, who: User): Promise<AuthContext> {
    const user = await this.repos.users.byId(who.id);
    if (!user) throw unauthenticated();
    const token = randomBytes(32).toString('base64url');
    const tokenHash = hashToken(token);
    const labs = await this.repos.labs.membershipsOf(user.id);
    const now = Date.now();
    const lab = defaultLab(user, labs);
    await this.repos.sessions.create(tokenHash, user.id, lab?.id ?? null, now, now + this.ttlMs);
    reply.header('set-cookie', serializeCookie(sessionCookie, token, { maxAgeSeconds: this.ttlMs / 1000, secure: this.secure(req) }));
    const ctx: AuthContext = { tokenHash, user, labs, currentLab: lab };
    this.cache.set(req.raw, ctx);
    return ctx;
  }

  async end(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const token = readCookie(req.headers.cookie, sessionCookie);
    if (token) await this.repos.sessions.delete(hashToken(token));
    this.cache.set(req.raw, null);
    reply.header('set-cookie', serializeCookie(sessionCookie, '', { maxAgeSeconds: 0, secure: this.secure(req) }));
  }

  /**
   * Look the request's session or API token up in the database, once per raw request (an onRequest
   * hook, registerSessionLoading, does it for /api and /files), so that get() and require() can
   * answer synchronously in routes and tus hooks.
   */
  async authenticate(req: FastifyRequest): Promise<AuthContext | null> {
    const cached = this.cache.get(req.raw);
    if (cached !== undefined) return cached;
    const ctx = await this.load(req);
    this.cache.set(req.raw, ctx);
    return ctx;
  }

  /** The signed-in user of this request (as authenticate() found it), or null. */
  get(req: FastifyRequest): AuthContext | null {
    return this.cache.get(req.raw) ?? null;
  }

  /** For code that only has the Node request (tus hooks). */
  fromRaw(raw: object): AuthContext | null {
    return this.cache.get(raw) ?? null;
  }

  private async load(req: FastifyRequest): Promise<AuthContext | null> {
    // A bearer token decides alone: a request that sends one is never also judged by a cookie.
    if (hasBearer(req)) return this.loadApiToken(bearerToken(req) ?? '');
    const token = readCookie(req.headers.cookie, sessionCookie);
    if (!token) return null;
    const tokenHash = hashToken(token);
    const now = Date.now();
    const row = await this.repos.sessions.live(tokenHash, now);
    if (!row) return null;
    const user = await this.repos.users.byId(row.userId);
    // Deactivating ends the sessions too; this also covers one opened in the same instant.
    if (!user || user.deactivatedAt) return null;
    // Sliding expiry, written at most once per half lifetime to keep reads cheap.
    // Best effort: with the disk full the session is still valid, and reads (and resuming an
    // upload once space is freed) must keep working; the next request extends it.
    if (row.expiresAt - now < this.ttlMs / 2) {
      try {
        await this.repos.sessions.touch(tokenHash, now + this.ttlMs);
      } catch (e) {
        if (!storageFailureOf(e)) throw e;
      }
    }
    const labs = await this.repos.labs.membershipsOf(user.id);
    // The session's own choice first: another session of the same user switching labs (on another
    // PC) must not move this one's next upload into a different lab.
    const currentLab = labs.find((l) => l.id === row.currentLabId) ?? defaultLab(user, labs);
    return { tokenHash, user, labs, currentLab };
  }

  /**
   * An API token: its user, working in its lab. Revoked or unknown tokens, deactivated users and
   * users who are no longer members of the token's lab get nothing (401). The token is looked up
   * by its hash, so comparing it leaks no timing; it is never logged.
   */
  private async loadApiToken(token: string): Promise<AuthContext | null> {
    if (!token.startsWith(apiTokenPrefix) || token.length > 200) return null;
    const tokenHash = hashToken(token);
    const row = await this.repos.apiTokens.live(tokenHash);
    if (!row) return null;
    const user = await this.repos.users.byId(row.userId);
    if (!user || user.deactivatedAt) return null;
    const lab = (await this.repos.labs.membershipsOf(user.id)).find((l) => l.id === row.labId);
    if (!lab) return null;
    const now = Date.now();
    if (row.lastUsedAt === null || now - Date.parse(row.lastUsedAt) >= tokenTouchMs) {
      try {
        await this.repos.apiTokens.touch(row.id, new Date(now).toISOString());
      } catch (e) {
        // Best effort, as for sessions: a full disk must not stop uploads resuming.
        if (!storageFailureOf(e)) throw e;
      }
    }
    // One lab, and no role above labs: a token made for uploading to one lab reads that lab only.
    return { tokenHash, user: { ...user, platformAdmin: false }, labs: [lab], currentLab: lab, viaToken: true, apiTokenId: row.id };
  }

  async switchLab(ctx: AuthContext, labId: number): Promise<AuthContext> {
    const lab = ctx.labs.find((l) => l.id === labId);
    if (!lab) throw notFound('lab not found');
    await this.repos.transaction(async (tx) => {
      await tx.sessions.setCurrentLab(ctx.tokenHash, labId);
      // Remembered for the user's next sign-in, on any PC.
      await tx.users.setCurrentLab(ctx.user.id, labId);
    });
    ctx.currentLab = lab;
    ctx.user.currentLabId = labId;
    return ctx;
  }

  /**
   * The signed-in user, for everything but the few routes a session opened with a reset's
   * temporary password may use (see requireAllowingPasswordChange): such a session can do nothing
   * else until the password is changed.
   */
  require(req: FastifyRequest): AuthContext {
    const ctx = this.requireAllowingPasswordChange(req);
    if (ctx.user.mustChangePassword) throw new ApiError(403, 'PASSWORD_CHANGE_REQUIRED', 'choose a new password first');
    return ctx;
  }

  /** Signed in, possibly with a temporary password: for who-am-I, sign-out and changing the password. */
  requireAllowingPasswordChange(req: FastifyRequest): AuthContext {
    const ctx = this.get(req);
    if (!ctx) throw unauthenticated();
    return ctx;
  }

  /** Sign the user out everywhere except (optionally) this session: after a password change or reset. */
  async endOtherSessions(userId: number, keepTokenHash?: string): Promise<number> {
    return await this.repos.sessions.deleteForUser(userId, keepTokenHash);
  }
}

export const editorRoles: readonly Role[] = ['lab-admin', 'lab-user'];

/** The current lab, for reading. */
export function currentLab(ctx: AuthContext): LabMembership {
  if (!ctx.currentLab) {
    if (ctx.labs.length > 0) throw new ApiError(409, 'NO_CURRENT_LAB', 'choose the lab you are working in first');
    throw forbidden('you are not a member of any lab');
  }
  return ctx.currentLab;
}

/** The current lab, for changing things in it (viewers are read-only). */
export function editableLab(ctx: AuthContext): LabMembership {
  const lab = currentLab(ctx);
  if (!editorRoles.includes(lab.role)) throw forbidden('your role in this lab is read-only');
  return lab;
}

/**
 * A lab the caller administers: its lab admins, and platform admins for every lab (looked up in
 * `labs` when given; without it, only labs they belong to). A member without the role gets 403;
 * anyone else 404 (another lab looks nonexistent).
 */
export async function administeredLab(ctx: AuthContext, labId: number, labs?: { byId(id: number): Promise<Lab | undefined> }): Promise<Lab> {
  const membership = ctx.labs.find((l) => l.id === labId);
  if (membership?.role === 'lab-admin') return membership;
  if (ctx.user.platformAdmin) {
    const lab = membership ?? (await labs?.byId(labId));
    if (lab) return lab;
  }
  if (membership) throw forbidden('only a lab admin may do this');
  throw notFound('lab not found');
}

export function canImport(lab: LabMembership | null): boolean {
  return !!lab && editorRoles.includes(lab.role) && lab.features.includes('bulk-import');
}

/**
 * Authenticates every /api and /files request up front (one lookup, memoised), after the checks
 * registered before it (same-origin) and before those after it (API token scope) and the routes.
 */
export function registerSessionLoading(app: FastifyInstance, sessions: Sessions): void {
  app.addHook('onRequest', async (req: FastifyRequest) => {
    const path = req.url;
    // Health and readiness never touch the database for a cookie (liveness must not depend on it).
    if (req.routeOptions.url !== undefined && opsPaths.includes(req.routeOptions.url)) return;
    if (path.startsWith('/api') || path.startsWith('/files')) await sessions.authenticate(req);
  });
}
