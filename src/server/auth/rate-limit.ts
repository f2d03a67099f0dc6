import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { normalizeIP, type CreateRateLimitOptions, type RateLimitOptions, type RateLimitPluginOptions } from '@fastify/rate-limit';
import { ApiError } from '../http/api-error.ts';

/**
 * Sign-in throttling, in memory (a restart forgives, which is fine for one lab server). Three layers,
 * each keyed by the client address as Fastify resolves it (X-Forwarded-For counts only when the
 * direct peer is a configured proxy, see config.trustProxy):
 *
 * 1. per (username, address): the first few failures are free (typos), then each further failure
 *    makes the next attempt wait twice as long, up to a short cap. A correct password is accepted
 *    as soon as the wait is over, and failures from other addresses never delay this one — an
 *    attacker elsewhere cannot lock the real user out, and one here only slows them down.
 * 2. per address, failures across all usernames within a window: stops spraying one password over
 *    many usernames (the per-username backoff never triggers for that).
 * 3. per address, sign-in requests of any outcome per minute (@fastify/rate-limit on the route):
 *    bounds the hashing work and session rows one address can cause even with a valid account.
 */
export interface SignInThrottlePolicy {
  /** Failures per (username, address) answered without delay: typing mistakes. */
  freeFailures: number;
  /** Wait after the first failure past the free ones; doubles with each further failure. */
  baseDelayMs: number;
  /** The longest wait the backoff imposes (so the real user is never locked out for long). */
  maxDelayMs: number;
  /** A (username, address) record is forgotten this long after its last failure. */
  forgetAfterMs: number;
  /** Failed sign-ins one address may make (all usernames together) per window. */
  addressFailures: number;
  addressWindowMs: number;
  /** Sign-in requests one address may send per minute, whatever their outcome. */
  addressRequestsPerMinute: number;
  /** Most (username, address) records kept; the oldest are dropped first (memory bound). */
  maxEntries: number;
  /**
   * How long a refused sign-in (throttled, or the hashing queue full) is held before its answer.
   * A refusal costs the server almost nothing, so a flooder that sends the next attempt as soon as
   * it has an answer would otherwise turn into a tight request loop that starves the event loop
   * (measured: 98% refusals at ~110/s took a range read from 9 ms to ~1 s); held, each of its
   * connections makes at most one attempt per delay. Costs a timer per request, no thread.
   */
  rejectDelayMs: number;
}

export const defaultSignInThrottle: Readonly<SignInThrottlePolicy> = {
  freeFailures: 3,
  baseDelayMs: 1000,
  maxDelayMs: 60_000,
  forgetAfterMs: 15 * 60_000,
  addressFailures: 20,
  addressWindowMs: 10 * 60_000,
  addressRequestsPerMinute: 120,
  maxEntries: 50_000,
  rejectDelayMs: 1000,
};

/**
 * The key for one client: IPv4-mapped IPv6 as IPv4, IPv6 reduced to its /64 (one host usually
 * holds a whole /64, so per-address limits must not reset with every address in it).
 */
export function addressKey(ip: string): string {
  return normalizeIP(ip, 64);
}

interface PairRecord {
  failures: number;
  lastFailure: number;
  /** No attempt is verified before this time. */
  notBefore: number;
}

/** Layer 1: exponential backoff per (username, address). Pure and clock-driven for unit tests. */
export class SignInBackoff {
  private readonly pairs = new Map<string, PairRecord>();
  constructor(private readonly policy: SignInThrottlePolicy) {}

  private key(username: string, address: string): string {
    return `${username.toLowerCase()}\u0000${addressKey(address)}`;
  }

  /** Milliseconds until an attempt for this username from this address is allowed; 0 = now. */
  retryAfter(username: string, address: string, now = Date.now()): number {
    const k = this.key(username, address);
    const r = this.pairs.get(k);
    if (!r) return 0;
    if (now - r.lastFailure >= this.policy.forgetAfterMs) {
      this.pairs.delete(k);
      return 0;
    }
    return Math.max(0, r.notBefore - now);
  }

  /** Records a failure; returns the wait now imposed on the next attempt (0 while failures are free). */
  fail(username: string, address: string, now = Date.now()): number {
    const k = this.key(username, address);
    const old = this.pairs.get(k);
    const failures = old && now - old.lastFailure < this.policy.forgetAfterMs ? old.failures + 1 : 1;
    const over = failures - this.policy.freeFailures;
    const wait = over <= 0 ? 0 : Math.min(this.policy.maxDelayMs, this.policy.baseDelayMs * 2 ** Math.min(over - 1, 30));
    // Re-inserted so the map's order is oldest-failure first, which is what eviction drops.
    this.pairs.delete(k);
    this.pairs.set(k, { failures, lastFailure: now, notBefore: now + wait });
    this.evict();
    return wait;
  }

  succeed(username: string, address: string): void {
    this.pairs.delete(this.key(username, address));
  }

  get size(): number {
    return this.pairs.size;
  }

  private evict(): void {
    // The map is oldest-failure first: a spray of usernames or addresses drops the oldest records
    // instead of growing memory without bound.
    for (const k of this.pairs.keys()) {
      if (this.pairs.size <= this.policy.maxEntries) break;
      this.pairs.delete(k);
    }
  }
}

type Limiter = ReturnType<FastifyInstance['createRateLimit']>;

const seconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));
const inWords = (s: number): string => (s < 90 ? `${s} second${s === 1 ? '' : 's'}` : `${Math.ceil(s / 60)} minutes`);

function tooMany(reply: FastifyReply, waitMs: number, why: string): ApiError {
  const s = seconds(waitMs);
  reply.header('retry-after', String(s));
  return new ApiError(429, 'TOO_MANY_ATTEMPTS', `${why} Try again in ${inWords(s)}.`);
}

/**
 * The sign-in route's guard. Needs @fastify/rate-limit registered on the app (global: false) before
 * `create` is called; `requestLimit` goes into the login route's `config.rateLimit`.
 */
export class SignInThrottle {
  readonly backoff: SignInBackoff;
  /** Route config: a RateLimitOptions (what the route accepts) plus the header choice, which the plugin merges per route too. */
  readonly requestLimit: RateLimitOptions & Pick<RateLimitPluginOptions, 'addHeaders' | 'addHeadersOnExceeding'>;
  private readonly addressFailures: Limiter;
  private readonly policy: SignInThrottlePolicy;

  private constructor(app: FastifyInstance, policy: SignInThrottlePolicy) {
    this.policy = policy;
    this.backoff = new SignInBackoff(policy);
    const keyGenerator = (req: FastifyRequest): string => addressKey(req.ip);
    // `cache` (the LRU size of this limiter's store) is read at runtime but missing from the type.
    const failureLimit: CreateRateLimitOptions & { cache: number } = { max: policy.addressFailures, timeWindow: policy.addressWindowMs, keyGenerator, cache: policy.maxEntries };
    this.addressFailures = app.createRateLimit(failureLimit);
    this.requestLimit = {
      max: policy.addressRequestsPerMinute,
      timeWindow: 60_000,
      keyGenerator,
      cache: policy.maxEntries,
      // Only Retry-After: the x-ratelimit-* counters would tell a prober exactly how much is left.
      addHeadersOnExceeding: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false },
      addHeaders: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false, 'retry-after': true },
      errorResponseBuilder: (_req, ctx) => new ApiError(429, 'TOO_MANY_ATTEMPTS', `Too many sign-in requests from this address. Try again in ${inWords(seconds(ctx.ttl))}.`),
    };
  }

  static create(app: FastifyInstance, policy: SignInThrottlePolicy = defaultSignInThrottle): SignInThrottle {
    if (!app.hasDecorator('createRateLimit')) throw new Error('register @fastify/rate-limit before the sign-in throttle');
    return new SignInThrottle(app, policy);
  }

  /**
   * Before verifying a password: throws 429 (Retry-After set) while this address is over its
   * failure budget or this (username, address) is inside its backoff. Nothing is verified then, so
   * a throttled guess tells the guesser nothing, right or wrong.
   */
  async check(req: FastifyRequest, reply: FastifyReply, username: string): Promise<void> {
    const budget = await this.addressFailures(req, { increment: false });
    const wait = !budget.isAllowed && budget.remaining === 0 ? { ms: budget.ttl, why: 'Too many failed sign-ins from this address.' } : { ms: this.backoff.retryAfter(username, req.ip), why: 'Too many failed sign-ins.' };
    if (wait.ms <= 0) return;
    const err = tooMany(reply, Math.max(0, wait.ms - this.policy.rejectDelayMs), wait.why);
    await this.holdRefusal();
    throw err;
  }

  /** Waits before a refusal is answered (see SignInThrottlePolicy.rejectDelayMs). */
  async holdRefusal(): Promise<void> {
    if (this.policy.rejectDelayMs > 0) await sleep(this.policy.rejectDelayMs);
  }

  async failed(req: FastifyRequest, username: string): Promise<void> {
    this.backoff.fail(username, req.ip);
    await this.addressFailures(req);
  }

  succeeded(req: FastifyRequest, username: string): void {
    this.backoff.succeed(username, req.ip);
  }
}
