import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { apiTokenPrefix, canImport, currentLab, hashToken, type AuthContext } from '../auth/session.ts';
import { tokenScopeError } from '../auth/token-scope.ts';
import type { ApiTokenRow } from '../db/repos/api-tokens.ts';
import { ApiError, badRequest, notFound } from '../http/api-error.ts';
import { idParam, objectBody, stringField, type RouteDeps } from './deps.ts';

/** Unrevoked tokens one user may hold: enough for every PC and job, not an unbounded table. */
export const maxTokensPerUser = 50;

const tokenJson = (t: ApiTokenRow) => ({ id: t.id, name: t.name, labId: t.labId, labName: t.labName, createdAt: t.createdAt, lastUsedAt: t.lastUsedAt });

/**
 * The signed-in user's API tokens for automated uploads (`wsi-import upload --token-file`). Only a
 * person in a session manages them: a token can neither list, make nor revoke tokens.
 */
export function apiTokenRoutes(app: FastifyInstance, d: RouteDeps): void {
  const person = (req: FastifyRequest): AuthContext => {
    const ctx = d.sessions.require(req);
    if (ctx.viaToken) throw tokenScopeError();
    return ctx;
  };

  app.post('/api/me/tokens', async (req, reply) => {
    const ctx = person(req);
    const lab = currentLab(ctx);
    // A token uploads to the lab it was made in: only someone who may import there makes one.
    if (!canImport(lab)) throw new ApiError(403, 'FORBIDDEN', 'you can only make an API token in a lab where you may import slides');
    const name = stringField(objectBody(req.body), 'name', { max: 100 })!;
    if (/[\u0000-\u001f\u007f]/.test(name)) throw badRequest('name must not hold control characters');
    if (await d.repos.apiTokens.countForUser(ctx.user.id) >= maxTokensPerUser) throw new ApiError(409, 'TOO_MANY_TOKENS', `you have ${maxTokensPerUser} API tokens: revoke one you no longer use first`);
    // 32 random bytes = 43 base64url characters; the database keeps only the SHA-256.
    const token = `${apiTokenPrefix}${randomBytes(32).toString('base64url')}`;
    const row = await d.repos.apiTokens.create(ctx.user.id, lab.id, name, hashToken(token));
    d.log.info({ userId: ctx.user.id, labId: lab.id, tokenId: row.id }, 'API token created');
    reply.header('cache-control', 'no-store');
    return reply.code(201).send({ id: row.id, name: row.name, token, labId: row.labId, labName: row.labName, createdAt: row.createdAt });
  });

  app.get('/api/me/tokens', async (req) => {
    const ctx = person(req);
    return { tokens: (await d.repos.apiTokens.listForUser(ctx.user.id)).map(tokenJson) };
  });

  app.delete<{ Params: { id: string } }>('/api/me/tokens/:id', async (req, reply) => {
    const ctx = person(req);
    const id = idParam(req.params.id);
    // Another user's token is indistinguishable from one that does not exist.
    if (!await d.repos.apiTokens.revoke(ctx.user.id, id)) throw notFound('token not found');
    d.log.info({ userId: ctx.user.id, tokenId: id }, 'API token revoked');
    return reply.code(204).send();
  });
}
