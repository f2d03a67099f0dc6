import type { FastifyInstance } from 'fastify';
import { administeredLab, type AuthContext } from '../auth/session.ts';
import { generatePassword, hashPassword } from '../auth/password.ts';
import { knownFeatures, roles, type Feature, type Lab, type Role } from '../db/repos/labs.ts';
import { ApiError, badRequest, forbidden, notFound } from '../http/api-error.ts';
import { idParam, objectBody, stringField, type RouteDeps } from './deps.ts';
import { checkNewPassword, invitationJson } from './account.ts';

/** How long a reset's temporary password may wait for its one sign-in (a weekend fits). */
const temporaryPasswordHours = 72;

const usernamePattern = /^[A-Za-z0-9._@-]+$/;

function usernameField(body: Record<string, unknown>): string {
  const username = stringField(body, 'username', { max: 64 })!;
  if (!usernamePattern.test(username)) throw badRequest('username may contain only letters, digits and . _ @ -');
  return username;
}

function roleField(body: Record<string, unknown>): Role {
  const role = body.role;
  if (typeof role !== 'string' || !roles.includes(role as Role)) throw badRequest(`role must be one of ${roles.join(', ')}`);
  return role as Role;
}

const lastAdmin = (): ApiError =>
  new ApiError(409, 'LAST_LAB_ADMIN', 'this is the last lab admin of the lab: make another member lab admin first, then change or remove this one');

/** The lab `labId` for administering it (see Sessions' administeredLab; platform admins: any lab). */
const administered = (d: RouteDeps, ctx: AuthContext, labId: number): Lab => administeredLab(ctx, labId, d.repos.labs);

function requirePlatformAdmin(ctx: AuthContext): void {
  if (!ctx.user.platformAdmin) throw forbidden('only a platform admin may do this');
}

/** Labs (platform admins), and per lab its members, invitations, resets and feature flags (that lab's lab admins, and platform admins). */
export function labRoutes(app: FastifyInstance, d: RouteDeps): void {
  app.get('/api/labs', async (req) => {
    requirePlatformAdmin(d.sessions.require(req));
    return { labs: d.repos.labs.all() };
  });

  app.post('/api/labs', async (req, reply) => {
    const ctx = d.sessions.require(req);
    requirePlatformAdmin(ctx);
    const name = stringField(objectBody(req.body), 'name', { max: 100 })!;
    if (d.repos.labs.byName(name)) throw new ApiError(409, 'LAB_EXISTS', 'a lab with this name already exists');
    const lab = d.repos.labs.create(name);
    d.log.info({ labId: lab.id, by: ctx.user.id }, 'lab created');
    return reply.code(201).send({ lab: { ...lab, members: 0, features: [] } });
  });

  app.get<{ Params: { id: string } }>('/api/labs/:id/users', async (req) => {
    const lab = administered(d, d.sessions.require(req), idParam(req.params.id));
    return { users: d.repos.labs.members(lab.id) };
  });

  // Create a NEW account in this lab. Someone who already has an account joins another lab only by
  // accepting an invitation (POST /api/labs/:id/invitations) — or directly when a platform admin
  // adds them (no password given): a lab admin must not be able to pull another lab's user, and
  // their next upload, into their own lab.
  app.post<{ Params: { id: string } }>('/api/labs/:id/users', async (req, reply) => {
    const ctx = d.sessions.require(req);
    const lab = administered(d, ctx, idParam(req.params.id));
    const body = objectBody(req.body);
    const username = usernameField(body);
    const role = roleField(body);
    if (body.password === undefined) {
      if (!ctx.user.platformAdmin) throw badRequest('a password is required to create an account; to add someone who already has an account, invite them', 'PASSWORD_REQUIRED');
      const existing = d.repos.users.credentialsByUsername(username);
      if (!existing) throw notFound('no account has this username');
      if (d.repos.labs.roleOf(lab.id, existing.id)) throw new ApiError(409, 'ALREADY_MEMBER', 'this user is already a member of the lab');
      d.repos.db.transaction(() => {
        d.repos.labs.setRole(lab.id, existing.id, role);
        for (const inv of d.repos.invitations.pendingForLab(lab.id, Date.now())) if (inv.username.toLowerCase() === username.toLowerCase()) d.repos.invitations.delete(inv.id);
      })();
      d.log.info({ labId: lab.id, userId: existing.id, by: ctx.user.id }, 'member added by a platform admin');
      return reply.code(200).send({ user: d.repos.labs.member(lab.id, existing.id) });
    }
    const password = checkNewPassword(body.password, username);
    const displayName = stringField(body, 'displayName', { max: 100, optional: true }) ?? username;
    // Hashed before looking the name up, so a taken name answers in the same time as a free one.
    const hash = await hashPassword(password);
    const userId = d.repos.db.transaction(() => {
      if (d.repos.users.exists(username)) return undefined;
      const user = d.repos.users.create(username, displayName, hash, { currentLabId: lab.id });
      d.repos.labs.setRole(lab.id, user.id, role);
      return user.id;
    })();
    if (userId === undefined) throw new ApiError(409, 'USERNAME_UNAVAILABLE', 'this username cannot be used for a new account; choose another, or invite the person if they already have an account');
    d.log.info({ labId: lab.id, userId, by: ctx.user.id }, 'account created');
    return reply.code(201).send({ user: d.repos.labs.member(lab.id, userId) });
  });

  app.put<{ Params: { id: string; userId: string } }>('/api/labs/:id/users/:userId', async (req) => {
    const ctx = d.sessions.require(req);
    const lab = administered(d, ctx, idParam(req.params.id));
    const userId = idParam(req.params.userId);
    const role = roleField(objectBody(req.body));
    const r = d.repos.labs.changeMembership(lab.id, userId, role);
    if (r === 'not-member') throw notFound('member not found');
    if (r === 'last-admin') throw lastAdmin();
    d.log.info({ labId: lab.id, userId, role, by: ctx.user.id }, 'member role changed');
    return { user: d.repos.labs.member(lab.id, userId) };
  });

  app.delete<{ Params: { id: string; userId: string } }>('/api/labs/:id/users/:userId', async (req, reply) => {
    const ctx = d.sessions.require(req);
    const lab = administered(d, ctx, idParam(req.params.id));
    const userId = idParam(req.params.userId);
    const r = d.repos.labs.changeMembership(lab.id, userId, null);
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
    const lab = administered(d, ctx, idParam(req.params.id));
    const userId = idParam(req.params.userId);
    const target = d.repos.users.byId(userId);
    if (!target || !d.repos.labs.roleOf(lab.id, userId)) throw notFound('member not found');
    if (userId === ctx.user.id) throw badRequest('use Change password for your own account', 'OWN_ACCOUNT');
    if (!ctx.user.platformAdmin) {
      // The account is one login across labs: a lab admin may reset it only when it belongs to no
      // lab they do not administer, or they could take over access to someone else's lab.
      if (target.platformAdmin) throw forbidden("only a platform admin may reset a platform admin's password");
      const administered = new Set(ctx.labs.filter((l) => l.role === 'lab-admin').map((l) => l.id));
      if (d.repos.labs.membershipsOf(userId).some((l) => !administered.has(l.id))) {
        throw forbidden('this user also belongs to a lab you do not administer: ask a platform admin to reset the password');
      }
    }
    const temporaryPassword = generatePassword();
    const hash = await hashPassword(temporaryPassword);
    const expiresAt = Date.now() + temporaryPasswordHours * 3600 * 1000;
    d.repos.db.transaction(() => {
      d.repos.users.setTemporaryPassword(userId, hash, expiresAt);
      d.sessions.endOtherSessions(userId);
    })();
    d.log.info({ labId: lab.id, userId, by: ctx.user.id }, 'password reset issued');
    // Shown once; no cache may keep it.
    reply.header('cache-control', 'no-store');
    return { temporaryPassword, expiresAt: new Date(expiresAt).toISOString() };
  });

  app.get<{ Params: { id: string } }>('/api/labs/:id/invitations', async (req) => {
    const lab = administered(d, d.sessions.require(req), idParam(req.params.id));
    return { invitations: d.repos.invitations.pendingForLab(lab.id, Date.now()).map(invitationJson) };
  });

  // Invite someone to this lab by username. The answer is the same whether or not an account has
  // that name (the invitation waits for it either way), so inviting cannot be used to find out
  // which usernames exist; only members of this lab, whom the admin sees anyway, are refused.
  app.post<{ Params: { id: string } }>('/api/labs/:id/invitations', async (req, reply) => {
    const ctx = d.sessions.require(req);
    const lab = administered(d, ctx, idParam(req.params.id));
    const body = objectBody(req.body);
    const username = usernameField(body);
    const role = roleField(body);
    const existing = d.repos.users.credentialsByUsername(username);
    if (existing && d.repos.labs.roleOf(lab.id, existing.id)) throw new ApiError(409, 'ALREADY_MEMBER', 'this user is already a member of the lab');
    const inv = d.repos.invitations.upsert(lab.id, username, role, ctx.user.id, Date.now());
    d.log.info({ labId: lab.id, invitationId: inv.id, by: ctx.user.id }, 'invitation sent');
    return reply.code(202).send({ invitation: invitationJson(inv) });
  });

  app.delete<{ Params: { id: string; invitationId: string } }>('/api/labs/:id/invitations/:invitationId', async (req, reply) => {
    const ctx = d.sessions.require(req);
    const lab = administered(d, ctx, idParam(req.params.id));
    const inv = d.repos.invitations.forLab(lab.id, idParam(req.params.invitationId));
    if (!inv) throw notFound('invitation not found');
    d.repos.invitations.delete(inv.id);
    d.log.info({ labId: lab.id, invitationId: inv.id, by: ctx.user.id }, 'invitation withdrawn');
    return reply.code(204).send();
  });

  app.put<{ Params: { id: string } }>('/api/labs/:id/features', async (req) => {
    const lab = administered(d, d.sessions.require(req), idParam(req.params.id));
    const { features } = objectBody(req.body);
    if (!Array.isArray(features) || !features.every((f) => typeof f === 'string' && (knownFeatures as readonly string[]).includes(f))) {
      throw badRequest(`features must be a list drawn from: ${knownFeatures.join(', ')}`);
    }
    d.repos.labs.setFeatures(lab.id, features as Feature[]);
    return { labId: lab.id, features: d.repos.labs.features(lab.id) };
  });
}
