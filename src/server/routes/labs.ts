import type { FastifyInstance } from 'fastify';
import { administeredLab } from '../auth/session.ts';
import { hashPassword } from '../auth/password.ts';
import { knownFeatures, roles, type Feature, type Role } from '../db/repos/labs.ts';
import { badRequest } from '../http/api-error.ts';
import { idParam, objectBody, stringField, type RouteDeps } from './deps.ts';

/** Lab administration: members and feature flags, for that lab's lab-admins only. */
export function labRoutes(app: FastifyInstance, d: RouteDeps): void {
  app.get<{ Params: { id: string } }>('/api/labs/:id/users', async (req) => {
    const lab = administeredLab(d.sessions.require(req), idParam(req.params.id));
    return { users: d.repos.labs.members(lab.id) };
  });

  // Add a member: a new user (password required), or an existing user by username (role set;
  // their password is theirs and is not touched from here — a lab admin of one lab must not be able
  // to take over an account that also belongs to other labs).
  app.post<{ Params: { id: string } }>('/api/labs/:id/users', async (req, reply) => {
    const lab = administeredLab(d.sessions.require(req), idParam(req.params.id));
    const body = objectBody(req.body);
    const username = stringField(body, 'username', { max: 64 })!;
    if (!/^[A-Za-z0-9._@-]+$/.test(username)) throw badRequest('username may contain only letters, digits and . _ @ -');
    const role = body.role;
    if (typeof role !== 'string' || !roles.includes(role as Role)) throw badRequest(`role must be one of ${roles.join(', ')}`);
    const existing = d.repos.users.credentialsByUsername(username);
    let userId: number;
    let created = false;
    if (existing) {
      if (body.password !== undefined) throw badRequest('this user already exists; their password cannot be set here', 'USER_EXISTS');
      userId = existing.id;
    } else {
      const password = body.password;
      if (typeof password !== 'string' || password.length < 10 || password.length > 1000) throw badRequest('password must be at least 10 characters');
      const displayName = stringField(body, 'displayName', { max: 100, optional: true }) ?? username;
      const hash = await hashPassword(password);
      userId = d.repos.users.create(username, displayName, hash).id;
      created = true;
    }
    d.repos.labs.setRole(lab.id, userId, role as Role);
    const member = d.repos.labs.members(lab.id).find((m) => m.id === userId)!;
    return reply.code(created ? 201 : 200).send({ user: member });
  });

  app.put<{ Params: { id: string } }>('/api/labs/:id/features', async (req) => {
    const lab = administeredLab(d.sessions.require(req), idParam(req.params.id));
    const { features } = objectBody(req.body);
    if (!Array.isArray(features) || !features.every((f) => typeof f === 'string' && (knownFeatures as readonly string[]).includes(f))) {
      throw badRequest(`features must be a list drawn from: ${knownFeatures.join(', ')}`);
    }
    d.repos.labs.setFeatures(lab.id, features as Feature[]);
    return { labId: lab.id, features: d.repos.labs.features(lab.id) };
  });
}
