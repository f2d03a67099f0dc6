/**
 * Failed-login throttle, in memory (a restart forgives, which is fine for a lab server): after
 * `maxFailures` failures for one username from one address within `windowMs`, further attempts get
 * 429 until the window has passed since the first failure.
 */
export class LoginThrottle {
  private readonly failures = new Map<string, { count: number; since: number }>();
  constructor(
    private readonly maxFailures = 5,
    private readonly windowMs = 15 * 60 * 1000,
  ) {}

  private key(username: string, ip: string): string {
    return `${username.toLowerCase()}\u0000${ip}`;
  }

  /** Milliseconds until another attempt is allowed, 0 when allowed now. */
  retryAfter(username: string, ip: string, now = Date.now()): number {
    const f = this.failures.get(this.key(username, ip));
    if (!f) return 0;
    if (now - f.since >= this.windowMs) {
      this.failures.delete(this.key(username, ip));
      return 0;
    }
    return f.count >= this.maxFailures ? f.since + this.windowMs - now : 0;
  }

  fail(username: string, ip: string, now = Date.now()): void {
    const k = this.key(username, ip);
    const f = this.failures.get(k);
    if (!f || now - f.since >= this.windowMs) this.failures.set(k, { count: 1, since: now });
    else f.count++;
    // Bound memory under a spray of usernames.
    if (this.failures.size > 10000) {
      for (const [key, v] of this.failures) if (now - v.since >= this.windowMs) this.failures.delete(key);
    }
  }

  succeed(username: string, ip: string): void {
    this.failures.delete(this.key(username, ip));
  }
}
