import type { FastifyBaseLogger } from 'fastify';
import type { ServerConfig } from '../config.ts';
import type { Repos } from '../db/repos/index.ts';
import type { Sessions } from '../auth/session.ts';
import type { SignInThrottle } from '../auth/rate-limit.ts';
import type { IngestQueue } from '../ingest/queue.ts';
import type { Storage } from '../storage.ts';
import { badRequest, notFound } from '../http/api-error.ts';

export interface RouteDeps {
  config: ServerConfig;
  repos: Repos;
  sessions: Sessions;
  throttle: SignInThrottle;
  ingest: IngestQueue;
  storage: Storage;
  log: FastifyBaseLogger;
}

/** A positive integer id from the URL; anything else is simply not found. */
export function idParam(v: unknown): number {
  if (typeof v !== 'string' || !/^[1-9]\d{0,15}$/.test(v)) throw notFound();
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw notFound();
  return n;
}

export function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('expected a JSON object');
  return body as Record<string, unknown>;
}

export function stringField(o: Record<string, unknown>, key: string, opts: { min?: number; max: number; optional?: boolean }): string | undefined {
  const v = o[key];
  if (v === undefined && opts.optional) return undefined;
  if (typeof v !== 'string') throw badRequest(`${key} must be a string`);
  const t = v.trim();
  if (t.length < (opts.min ?? 1) || t.length > opts.max) throw badRequest(`${key} must be ${opts.min ?? 1} to ${opts.max} characters`);
  return t;
}

export function queryString(q: unknown, key: string, max = 200): string | undefined {
  const v = (q as Record<string, unknown> | undefined)?.[key];
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string' || v.length > max) throw badRequest(`${key} must be a string of at most ${max} characters`);
  return v.trim() || undefined;
}

export function queryInt(q: unknown, key: string, fallback: number, min: number, max: number): number {
  const v = queryString(q, key, 20);
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw badRequest(`${key} must be a whole number from ${min} to ${max}`);
  return Number(v);
}
