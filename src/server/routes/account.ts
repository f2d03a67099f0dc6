import type { FastifyInstance } from 'fastify';
import { hashPassword, verifyPassword } from '../auth/password.ts';
import { maxPasswordLength, passwordProblem } from '../auth/password-policy.ts';
import type { Invitation } from '../db/repos/invitations.ts';
import { ApiError, badRequest, notFound } from '../http/api-error.ts';
import { idParam, objectBody, type RouteDeps } from './deps.ts';
import { meBody } from './auth.ts';

/** Wrong current passwords one session may send before it is signed out (a stolen session must not become a guessing oracle). */
const maxWrongCurrentPasswords = 5;

export const invitationJson = (i: Invitation) => ({
  id: i.id,
  lab: { id: i.labId, name: i.labName },
  username: i.username,
  role: i.role,
  invitedBy: i.invitedBy,
  createdAt: i.createdAt,
  expiresAt: new Date(i.expiresAt).toISOString(),
});

/** A password chosen by a person, checked by the one policy; a 400 saying what is wrong otherwise. */
export function checkNewPassword(password: unknown, username: string, key = 'password'): string {
  if (typeof password !== 'string' || password === '') throw badRequest(`${key} is required`);
  const problem = passwordProblem(password, username);
  if (problem) throw new ApiError(400, `PASSWORD_${problem.code}`, problem.message);
  return password;
}

/** The signed-in user's own account: change password, answer invitations to other labs. */
export function accountRoutes(app: FastifyInstance, d: RouteDeps): void {
  const wrongCurrent = new Map<string, number>();

  app.post('/api/me/password', async (req, reply) => {
    // Also for a session opened with a reset's temporary password: this is the one thing it may do.
    const ctx = d.sessions.requireAllowingPasswordChange(req);
    const body = objectBody(req.body);
    const { currentPassword } = body;
    if (typeof currentPassword !== 'string' || currentPassword === '' || currentPassword.length > maxPasswordLength) throw badRequest('currentPassword is required');
    const newPassword = checkNewPassword(body.newPassword, ctx.user.username, 'newPassword');
    const stored = await d.repos.users.credentialsById(ctx.user.id);
    if (!stored) throw notFound('user not found');
    if (!(await verifyPassword(currentPassword, stored.passwordHash))) {
      const n = (wrongCurrent.get(ctx.tokenHash) ?? 0) + 1;
      if (n >= maxWrongCurrentPasswords) {
        wrongCurrent.delete(ctx.tokenHash);
        await d.sessions.end(req, reply);
        d.log.warn({ userId: ctx.user.id }, 'signed out after repeated wrong current passwords');
        throw new ApiError(401, 'UNAUTHENTICATED', 'too many wrong passwords: you have been signed out');
      }
      wrongCurrent.set(ctx.tokenHash, n);
      // 403, not 401: the session is fine, the password typed is not (a 401 would send the app to sign-in).
      throw new ApiError(403, 'WRONG_PASSWORD', 'the current password is not correct');
    }
    wrongCurrent.delete(ctx.tokenHash);
    if (newPassword.normalize('NFC') === currentPassword.normalize('NFC')) throw badRequest('the new password must differ from the current one', 'PASSWORD_UNCHANGED');
    const hash = await hashPassword(newPassword);
    await d.repos.transaction(async (tx) => {
      await tx.users.setPassword(ctx.user.id, hash);
      // Whoever knew the old password (or held a session opened with it) is out; this PC stays in.
      await tx.sessions.deleteForUser(ctx.user.id, ctx.tokenHash);
    });
    ctx.user.mustChangePassword = false;
    d.log.info({ userId: ctx.user.id }, 'password changed');
    return meBody(ctx, (await d.repos.invitations.pendingForUser(ctx.user.id, ctx.user.username, Date.now())).length);
  });

  app.get('/api/me/invitations', async (req) => {
    const ctx = d.sessions.require(req);
    return { invitations: (await d.repos.invitations.pendingForUser(ctx.user.id, ctx.user.username, Date.now())).map(invitationJson) };
  });

  app.post<{ Params: { id: string } }>('/api/me/invitations/:id/accept', async (req) => {
    const ctx = d.sessions.require(req);
    const id = idParam(req.params.id);
    const accepted = await d.repos.transaction(async (tx) => {
      const inv = await tx.invitations.pendingForUserById(id, ctx.user.username, Date.now());
      if (!inv) return undefined;
      // Already a member (a platform admin added them meanwhile): their role stays as it is.
      if (!await tx.labs.roleOf(inv.labId, ctx.user.id)) await tx.labs.setRole(inv.labId, ctx.user.id, inv.role);
      await tx.invitations.delete(inv.id);
      return inv;
    });
    // Someone else's invitation does not exist for this user.
    if (!accepted) throw notFound('invitation not found');
    d.log.info({ labId: accepted.labId, userId: ctx.user.id, invitationId: accepted.id }, 'invitation accepted');
    // The current lab stays where it was: joining a lab must not redirect the next upload into it.
    ctx.labs = await d.repos.labs.membershipsOf(ctx.user.id);
    ctx.currentLab = ctx.labs.find((l) => l.id === ctx.currentLab?.id) ?? (ctx.labs.length === 1 ? ctx.labs[0] : null);
    return meBody(ctx, (await d.repos.invitations.pendingForUser(ctx.user.id, ctx.user.username, Date.now())).length);
  });

  app.post<{ Params: { id: string } }>('/api/me/invitations/:id/decline', async (req, reply) => {
    const ctx = d.sessions.require(req);
    const inv = await d.repos.invitations.pendingForUserById(idParam(req.params.id), ctx.user.username, Date.now());
    if (!inv) throw notFound('invitation not found');
    await d.repos.invitations.delete(inv.id);
    d.log.info({ labId: inv.labId, userId: ctx.user.id, invitationId: inv.id }, 'invitation declined');
    return reply.code(204).send();
  });
}
