import type { FastifyInstance } from 'fastify';
import { administeredLab, type AuthContext } from '../auth/session.ts';
import { knownFeatures, roles, type Feature, type Lab, type Role } from '../db/repos/labs.ts';
import type { Account } from '../db/repos/users.ts';
import { ApiError, badRequest, forbidden, notFound } from '../http/api-error.ts';
import { checkUsername, createAccount, createLab, resetToOneTimePassword, setAccountActive } from '../admin-actions.ts';
import { idParam, objectBody, stringField, type RouteDeps } from './deps.ts';
import { checkNewPassword, invitationJson } from './account.ts';

function usernameField(body: Record<string, unknown>, key = 'username'): string {
  return checkUsername(stringField(body, key, { max: 64 })!);
}

function featuresField(value: unknown): Feature[] {
  if (!Array.isArray(value) || !value.every((f) => typeof f === 'string' && (knownFeatures as readonly string[]).includes(f))) {
    throw badRequest(`features must be a list drawn from: ${knownFeatures.join(', ')}`);
  }
  return value as Feature[];
}

function roleField(body: Record<string, unknown>): Role {
  const role = body.role;
  if (typeof role !== 'string' || !roles.includes(role as Role)) throw badRequest(`role must be one of ${roles.join(', ')}`);
  return role as Role;
}

const lastAdmin = (): ApiError =>
  new ApiError(409, 'LAST_LAB_ADMIN', 'this is the last lab admin of the lab: make another member lab admin first, then change or remove this one');

/** The lab `labId` for administering it (see Sessions' administeredLab; platform admins: any lab). */
const administered = (d: RouteDeps, ctx: AuthContext, labId: number): Promise<Lab> => administeredLab(ctx, labId, d.repos.labs);

function requirePlatformAdmin(ctx: AuthContext): void {
  if (!ctx.user.platformAdmin) throw forbidden('only a platform admin may do this');
}

/**
 * A member of `lab` whose account (one login across labs) the caller may reset or deactivate: not
 * their own, and for a lab admin only when it belongs to no lab they do not administer, or they
 * could take over or shut out someone else's lab.
 */
async function manageableAccount(d: RouteDeps, ctx: AuthContext, lab: Lab, userId: number, ownAccountHint: string): Promise<Account> {
  const target = await d.repos.users.byId(userId);
  if (!target || !(await d.repos.labs.roleOf(lab.id, userId))) throw notFound('member not found');
  if (userId === ctx.user.id) throw badRequest(ownAccountHint, 'OWN_ACCOUNT');
  if (!ctx.user.platformAdmin) {
    if (target.platformAdmin) throw forbidden('Only a platform admin may change the account of a platform admin.');
    const administered = new Set(ctx.labs.filter((l) => l.role === 'lab-admin').map((l) => l.id));
    if ((await d.repos.labs.membershipsOf(userId)).some((l) => !administered.has(l.id))) {
      throw forbidden('This user also belongs to a lab you do not administer. Ask a platform admin.');
    }
  }
  return target;
}

/** Labs (platform admins), and per lab its members, invitations, resets and feature flags (that lab's lab admins, and platform admins). */
export function labRoutes(app: FastifyInstance, d: RouteDeps): void {
  app.get('/api/labs', async (req) => {
    requirePlatformAdmin(d.sessions.require(req));
    return { labs: await d.repos.labs.all() };
  });

  // A lab, optionally with its first lab admin (a new account with a one-time password, shown
  // once in this answer) and its feature flags, all or nothing.
  app.post('/api/labs', async (req, reply) => {
    const ctx = d.sessions.require(req);
    requirePlatformAdmin(ctx);
    const body = objectBody(req.body);
    const name = stringField(body, 'name', { max: 100 })!;
    const features = body.features === undefined ? [] : featuresField(body.features);
    let admin: { username: string; displayName: string } | undefined;
    if (body.admin !== undefined) {
      const a = objectBody(body.admin);
      const username = usernameField(a);
      admin = { username, displayName: stringField(a, 'displayName', { max: 100, optional: true }) ?? username };
    }
    const made = await createLab(d.repos, { name, features, ...(admin ? { admin } : {}) });
    d.log.info({ labId: made.lab.id, by: ctx.user.id, adminId: made.admin?.userId }, 'lab created');
    reply.header('cache-control', 'no-store');
    return reply.code(201).send({
      lab: { ...made.lab, members: made.admin ? 1 : 0, features: await d.repos.labs.features(made.lab.id) },
      ...(made.admin
        ? { admin: { user: await d.repos.labs.member(made.lab.id, made.admin.userId), temporaryPassword: made.admin.temporaryPassword, expiresAt: made.admin.expiresAt } }
        : {}),
    });
  });

  app.get<{ Params: { id: string } }>('/api/labs/:id/users', async (req) => {
    const lab = await administered(d, d.sessions.require(req), idParam(req.params.id));
    return { users: await d.repos.labs.members(lab.id) };
  });

  // Create a NEW account in this lab. Someone who already has an account joins another lab only by
  // accepting an invitation (POST /api/labs/:id/invitations) — or directly when a platform admin
  // adds them (no password given): a lab admin must not be able to pull another lab's user, and
  // their next upload, into their own lab.
  app.post<{ Params: { id: string } }>('/api/labs/:id/users', async (req, reply) => {
    const ctx = d.sessions.require(req);
    const lab = await administered(d, ctx, idParam(req.params.id));
    const body = objectBody(req.body);
    const username = usernameField(body);
    const role = roleField(body);
    const displayName = stringField(body, 'displayName', { max: 100, optional: true }) ?? username;
    // A one-time password made by the server, shown once here; the user chooses their own at sign-in.
    if (body.oneTimePassword === true) {
      const made = await createAccount(d.repos, { labId: lab.id, username, displayName, role });
      d.log.info({ labId: lab.id, userId: made.userId, by: ctx.user.id }, 'account created (one-time password)');
      reply.header('cache-control', 'no-store');
      return reply.code(201).send({ user: await d.repos.labs.member(lab.id, made.userId), ...made.oneTime });
    }
    if (body.password === undefined) {
      if (!ctx.user.platformAdmin) throw badRequest('a password is required to create an account; to add someone who already has an account, invite them', 'PASSWORD_REQUIRED');
      const existing = await d.repos.users.credentialsByUsername(username);
      if (!existing) throw notFound('no account has this username');
      if (await d.repos.labs.roleOf(lab.id, existing.id)) throw new ApiError(409, 'ALREADY_MEMBER', 'this user is already a member of the lab');
      await d.repos.transaction(async (tx) => {
        await tx.labs.setRole(lab.id, existing.id, role);
        for (const inv of await tx.invitations.pendingForLab(lab.id, Date.now())) if (inv.username.toLowerCase() === username.toLowerCase()) await tx.invitations.delete(inv.id);
      });
      d.log.info({ labId: lab.id, userId: existing.id, by: ctx.user.id }, 'member added by a platform admin');
      return reply.code(200).send({ user: await d.repos.labs.member(lab.id, existing.id) });
    }
    const password = checkNewPassword(body.password, username);
    const { userId } = await createAccount(d.repos, { labId: lab.id, username, displayName, role, password });
    d.log.info({ labId: lab.id, userId, by: ctx.user.id }, 'account created');
    return reply.code(201).send({ user: await d.repos.labs.member(lab.id, userId) });
  });

  app.put<{ Params: { id: string; userId: string } }>('/api/labs/:id/users/:userId', async (req) => {
    const ctx = d.sessions.require(req);
    const lab = await administered(d, ctx, idParam(req.params.id));
    const userId = idParam(req.params.userId);
    const role = roleField(objectBody(req.body));
    const r = await d.repos.labs.changeMembership(lab.id, userId, role);
    if (r === 'not-member') throw notFound('member not found');
    if (r === 'last-admin') throw lastAdmin();
    d.log.info({ labId: lab.id, userId, role, by: ctx.user.id }, 'member role changed');
    return { user: await d.repos.labs.member(lab.id, userId) };
  });

  app.delete<{ Params: { id: string; userId: string } }>('/api/labs/:id/users/:userId', async (req, reply) => {
    const ctx = d.sessions.require(req);
    const lab = await administered(d, ctx, idParam(req.params.id));
    const userId = idParam(req.params.userId);
    const r = await d.repos.labs.changeMembership(lab.id, userId, null);
    if (r === 'not-member') throw notFound('member not found');
    if (r === 'last-admin') throw lastAdmin();
    // Their sessions fall back to another lab on the next request (see Sessions.load); their
    // unfinished uploads into this lab are no longer theirs to continue (tus gate: membership).
    d.log.info({ labId: lab.id, userId, by: ctx.user.id }, 'member removed');
    return reply.code(204).send();
  });

  // A one-time reset: a temporary password, shown once to the admin, that signs in once before it
  // expires and then only allows choosing a new password. Every session of the user ends.
  app.post<{ Params: { id: string; userId: string } }>('/api/labs/:id/users/:userId/password-reset', async (req, reply) => {
    const ctx = d.sessions.require(req);
    const lab = await administered(d, ctx, idParam(req.params.id));
    const userId = idParam(req.params.userId);
    await manageableAccount(d, ctx, lab, userId, 'use Change password for your own account');
    const otp = await resetToOneTimePassword(d.repos, userId);
    d.log.info({ labId: lab.id, userId, by: ctx.user.id }, 'password reset issued');
    // Shown once; no cache may keep it.
    reply.header('cache-control', 'no-store');
    return otp;
  });

  // Deactivate ({active: false}) or reactivate an account: deactivated, it cannot sign in and its
  // sessions end at once; its memberships, scans and cases stay. The account is one login across
  // labs, so the same rules as for a reset decide who may (manageableAccount).
  app.put<{ Params: { id: string; userId: string } }>('/api/labs/:id/users/:userId/status', async (req) => {
    const ctx = d.sessions.require(req);
    const lab = await administered(d, ctx, idParam(req.params.id));
    const userId = idParam(req.params.userId);
    const { active } = objectBody(req.body);
    if (typeof active !== 'boolean') throw badRequest('active must be true or false');
    await manageableAccount(d, ctx, lab, userId, 'You cannot deactivate your own account.');
    await setAccountActive(d.repos, userId, active);
    d.log.info({ labId: lab.id, userId, active, by: ctx.user.id }, active ? 'account reactivated' : 'account deactivated');
    return { user: await d.repos.labs.member(lab.id, userId) };
  });

  app.get<{ Params: { id: string } }>('/api/labs/:id/invitations', async (req) => {
    const lab = await administered(d, d.sessions.require(req), idParam(req.params.id));
    return { invitations: (await d.repos.invitations.pendingForLab(lab.id, Date.now())).map(invitationJson) };
  });

  // Invite someone to this lab by username. The answer is the same whether or not an account has
  // that name (the invitation waits for it either way), so inviting cannot be used to find out
  // which usernames exist; only members of this lab, whom the admin sees anyway, are refused.
  app.post<{ Params: { id: string } }>('/api/labs/:id/invitations', async (req, reply) => {
    const ctx = d.sessions.require(req);
    const lab = await administered(d, ctx, idParam(req.params.id));
    const body = objectBody(req.body);
    const username = usernameField(body);
    const role = roleField(body);
    const existing = await d.repos.users.credentialsByUsername(username);
    if (existing && await d.repos.labs.roleOf(lab.id, existing.id)) throw new ApiError(409, 'ALREADY_MEMBER', 'this user is already a member of the lab');
    const inv = await d.repos.invitations.upsert(lab.id, username, role, ctx.user.id, Date.now());
    d.log.info({ labId: lab.id, invitationId: inv.id, by: ctx.user.id }, 'invitation sent');
    return reply.code(202).send({ invitation: invitationJson(inv) });
  });

  app.delete<{ Params: { id: string; invitationId: string } }>('/api/labs/:id/invitations/:invitationId', async (req, reply) => {
    const ctx = d.sessions.require(req);
    const lab = await administered(d, ctx, idParam(req.params.id));
    const inv = await d.repos.invitations.forLab(lab.id, idParam(req.params.invitationId));
    if (!inv) throw notFound('invitation not found');
    await d.repos.invitations.delete(inv.id);
    d.log.info({ labId: lab.id, invitationId: inv.id, by: ctx.user.id }, 'invitation withdrawn');
    return reply.code(204).send();
  });

  app.put<{ Params: { id: string } }>('/api/labs/:id/features', async (req) => {
    const lab = await administered(d, d.sessions.require(req), idParam(req.params.id));
    await d.repos.labs.setFeatures(lab.id, featuresField(objectBody(req.body).features));
    return { labId: lab.id, features: await d.repos.labs.features(lab.id) };
  });
}
