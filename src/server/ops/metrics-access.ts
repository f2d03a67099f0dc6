import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

export type MetricsVerdict = 'allow' | 'unauthorized' | 'hidden';

export interface MetricsRequestFacts {
  /** WSI_METRICS_TOKEN, when set. */
  token: string | undefined;
  /** The Authorization header as sent. */
  authorization: string | undefined;
  /** The TCP peer (the socket's address: never X-Forwarded-For, which anyone can write). */
  remoteAddress: string | undefined;
  /** True when the request carries Forwarded / X-Forwarded-For: a proxy on this machine relayed it. */
  forwarded: boolean;
}

/** 127.0.0.0/8, ::1 and their IPv4-mapped spellings. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.toLowerCase().replace(/^::ffff:/, '');
  if (isIP(a) === 4) return a.startsWith('127.');
  return a === '::1';
}

/** Constant-time comparison (hashing first makes the lengths equal and hides the token's). */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * Who may scrape /metrics. With a token configured: whoever sends it as a bearer token (401 for
 * anyone else). Without one: only a scraper on this machine — a loopback peer whose request was
 * not relayed by a reverse proxy (a proxy on the same machine also connects from loopback, and the
 * world behind it must not see the metrics); everyone else is told the path does not exist.
 */
export function judgeMetricsAccess(f: MetricsRequestFacts): MetricsVerdict {
  if (f.token !== undefined) {
    const m = /^Bearer[ \t]+(\S+)\s*$/i.exec(f.authorization ?? '');
    return m && sameSecret(m[1]!, f.token) ? 'allow' : 'unauthorized';
  }
  return isLoopback(f.remoteAddress) && !f.forwarded ? 'allow' : 'hidden';
}
