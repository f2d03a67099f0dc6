import type { FastifyInstance } from 'fastify';
import { canImport, type AuthContext } from '../auth/session.ts';
import { dummyHash, hashingBusyRetrySeconds, verifyPassword } from '../auth/password.ts';
import { ApiError, badRequest } from '../http/api-error.ts';
import { objectBody, type RouteDeps } from './deps.ts';
import { accountRoutes } from './account.ts';

export function meBody(ctx: AuthContext, pendingInvitations = 0) {
  return {
    user: { id: ctx.user.id, username: ctx.user.username, displayName: ctx.user.displayName },
    labs: ctx.labs.map((l) => ({ id: l.id, name: l.name, role: l.role, features: l.features })),
    currentLabId: ctx.currentLab?.id ?? null,
    canImport: canImport(ctx.currentLab),
    platformAdmin: ctx.user.platformAdmin,
    /** Signed in with a reset's temporary password: the app shows only "choose a new password". */
    mustChangePassword: ctx.user.mustChangePassword,
    /** Invitations to other labs waiting for this user's answer. */
    pendingInvitations,
  };
}

/** Sign in/out and who am I. */
export function authRoutes(app: FastifyInstance, d: RouteDeps): void {
  app.post('/api/login', { config: { rateLimit: d.throttle.requestLimit } }, async (req, reply) => {
    const body = objectBody(req.body);
    const { username, password } = body;
    if (typeof username !== 'string' || typeof password !== 'string' || !username || !password || username.length > 200 || password.length > 1000) {
      throw badRequest('username and password are required');
    }
    await d.throttle.check(req, reply, username);
    const row = await d.repos.users.credentialsByUsername(username);
    let ok: boolean;
    try {
      // Unknown users cost one scrypt too, so response time does not tell which usernames exist.
      ok = await verifyPassword(password, row?.passwordHash ?? (await dummyHash()));
    } catch (e) {
      // The hashing queue is full (a flood): nothing was checked, so nothing counts as a failure.
      if (e instanceof ApiError && e.status === 503) {
        reply.header('retry-after', String(hashingBusyRetrySeconds));
        await d.throttle.holdRefusal();
      }
      throw e;
    }
    // A reset's temporary password signs in once, before it expires; consumed here, atomically.
    // Said only to someone who knows the password (anyone else gets the usual answer below).
    if (row && ok && row.deactivatedAt) throw new ApiError(403, 'ACCOUNT_DEACTIVATED', 'This account has been deactivated. Ask your lab admin to reactivate it.');
    if (!row || !ok || (row.mustChangePassword && !await d.repos.users.consumeTemporaryPassword(row.id, Date.now()))) {
      await d.throttle.failed(req, username);
      throw new ApiError(401, 'BAD_CREDENTIALS', 'wrong username or password');
    }
    d.throttle.succeeded(req, username);
    const ctx = await d.sessions.start(req, reply, { id: row.id, username: row.username, displayName: row.displayName });
    return meBody(ctx);
  });

  app.post('/api/logout', async (req, reply) => {
    await d.sessions.end(req, reply);
    return reply.code(204).send();
  });

  app.get('/api/me', async (req) => {
    const ctx = d.sessions.requireAllowingPasswordChange(req);
    return meBody(ctx, ctx.user.mustChangePassword ? 0 : (await d.repos.invitations.pendingForUser(ctx.user.id, ctx.user.username, Date.now())).length);
  });

  app.post('/api/me/lab', async (req) => {
    const ctx = d.sessions.require(req);
    const { labId } = objectBody(req.body);
    if (typeof labId !== 'number' || !Number.isSafeInteger(labId)) throw badRequest('labId must be a number');
    return meBody(await d.sessions.switchLab(ctx, labId));
  });

  // The signed-in user's own account (password, invitations) lives beside sign-in.
  accountRoutes(app, d);
}
