import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { hashPassword, ScryptPool, verifyPassword } from '../../src/server/auth/password.ts';
import { addressKey, defaultSignInThrottle, SignInBackoff, type SignInThrottlePolicy } from '../../src/server/auth/rate-limit.ts';
import { memberOf, removeDir, startServer, type TestServer } from './support.ts';

/**
 * Sign-in throttling against a real server. Client addresses are simulated with X-Forwarded-For
 * through a server that trusts 127.0.0.1 as its proxy (what a reverse proxy on the same host sends);
 * the tests of forged headers use servers that trust no one or another address.
 */

// A lower cap so the tests wait little, a smaller address budget so they hash less (each failure
// costs a real scrypt; the budget test itself uses the default budget), refusals answered at once
// (holding them has its own test).
const quick: SignInThrottlePolicy = { ...defaultSignInThrottle, maxDelayMs: 2000, addressFailures: 6, rejectDelayMs: 0 };

let proxied: TestServer;
before(async () => {
  proxied = await startServer({ trustProxy: ['127.0.0.1'], signInThrottle: quick });
});
after(async () => {
  await proxied.stop();
  await removeDir(proxied.config.dataDir);
});

async function signIn(s: TestServer, username: string, password: string, forwardedFor?: string): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (forwardedFor !== undefined) headers['x-forwarded-for'] = forwardedFor;
  return fetch(`${s.url}/api/login`, { method: 'POST', headers, body: JSON.stringify({ username, password }) });
}

async function user(s: TestServer, name: string): Promise<string> {
  await memberOf(s, 'Demo Lab', name, 'lab-user');
  return `pw-${name}-long-enough`;
}

async function errorOf(r: Response): Promise<{ code: string; message: string }> {
  return ((await r.json()) as { error: { code: string; message: string } }).error;
}

test("an attacker hammering a username from other addresses never delays the real user's sign-in", async () => {
  const password = await user(proxied, 'alice');
  const statuses: number[] = [];
  // One address hammering without pause, and ten more trying a few guesses each.
  for (let i = 0; i < 15; i++) statuses.push((await signIn(proxied, 'alice', `guess-${i}`, '203.0.113.7')).status);
  for (let a = 1; a <= 4; a++) for (let i = 0; i < 4; i++) statuses.push((await signIn(proxied, 'alice', `guess-${a}-${i}`, `198.18.0.${a}`)).status);
  assert.ok(statuses.includes(429), 'the attacker is slowed down');
  assert.ok(statuses.every((s) => s === 401 || s === 429), `only 401/429: ${statuses.join(',')}`);
  // The real user at their own address: in at once.
  assert.equal((await signIn(proxied, 'alice', password, '198.51.100.20')).status, 200);
});

test("the real user at the attacker's address gets in once the short backoff has passed", async () => {
  const password = await user(proxied, 'bob');
  const attacker = '203.0.113.8';
  for (let i = 0; i < 12; i++) await signIn(proxied, 'bob', `guess-${i}`, attacker);
  const early = await signIn(proxied, 'bob', password, attacker);
  assert.equal(early.status, 429, 'inside the backoff nothing is checked, not even the right password');
  const wait = Number(early.headers.get('retry-after'));
  assert.ok(wait >= 1 && wait <= Math.ceil(quick.maxDelayMs / 1000), `Retry-After ${wait}`);
  assert.equal((await errorOf(early)).code, 'TOO_MANY_ATTEMPTS');
  await sleep(wait * 1000);
  assert.equal((await signIn(proxied, 'bob', password, attacker)).status, 200);
});

test('per-address budget (default policy): 40 usernames × a wrong password from one address gets throttled (other addresses are not)', async () => {
  const s = await startServer({ trustProxy: ['127.0.0.1'], signInThrottle: { ...defaultSignInThrottle, rejectDelayMs: 0 } });
  try {
    await budgetTrips(s);
  } finally {
    await s.stop();
    await removeDir(s.config.dataDir);
  }
});

async function budgetTrips(proxied: TestServer): Promise<void> {
  const policy = proxied.config.signInThrottle;
  const password = await user(proxied, 'carol');
  const spray = '203.0.113.9';
  const statuses: number[] = [];
  let throttled: Response | undefined;
  for (let i = 0; i < 40; i++) {
    const r = await signIn(proxied, `user${i}`, 'Winter2026!', spray);
    statuses.push(r.status);
    if (r.status === 429) throttled ??= r;
  }
  const budget = policy.addressFailures;
  assert.deepEqual(statuses.slice(0, budget), Array(budget).fill(401), 'within the budget: ordinary answers');
  assert.deepEqual(statuses.slice(budget), Array(40 - budget).fill(429), 'past the budget: throttled');
  assert.ok(throttled);
  const wait = Number(throttled.headers.get('retry-after'));
  assert.ok(wait > 0 && wait <= policy.addressWindowMs / 1000, `Retry-After ${wait}`);
  assert.match((await errorOf(throttled)).message, /from this address/);
  // Throttled means nothing is checked from there, a right password included…
  assert.equal((await signIn(proxied, 'carol', password, spray)).status, 429);
  // …while everyone else is unaffected.
  assert.equal((await signIn(proxied, 'carol', password, '198.51.100.30')).status, 200);
  assert.equal((await signIn(proxied, 'user1', 'Winter2026!', '198.51.100.31')).status, 401);
}

test('one IPv6 host is one client: addresses of the same /64 share the budget', async () => {
  const statuses: number[] = [];
  for (let i = 0; i < 10; i++) statuses.push((await signIn(proxied, `v6user${i}`, 'wrong', `2001:db8:1:2::${(i + 1).toString(16)}`)).status);
  assert.equal(statuses.filter((s) => s === 429).length, 10 - quick.addressFailures);
  assert.equal((await signIn(proxied, 'v6user0', 'wrong', '2001:db8:1:3::1')).status, 401, 'the next /64 is another client');
  assert.equal(addressKey('2001:db8:1:2::1'), addressKey('2001:db8:1:2:ffff::9'));
  assert.equal(addressKey('::ffff:192.0.2.1'), '192.0.2.1');
});

test('X-Forwarded-For from a configured proxy is honoured, by the hop the proxy saw (forged entries to its left do not count)', async () => {
  const statuses: number[] = [];
  // The client forges a fresh address each time; the proxy appends the address it really saw.
  for (let i = 0; i < 10; i++) statuses.push((await signIn(proxied, `xff${i}`, 'wrong', `10.66.${i}.1, 203.0.113.50`)).status);
  assert.equal(statuses.filter((s) => s === 429).length, 10 - quick.addressFailures, 'keyed by 203.0.113.50, not by the forged entries');
  assert.equal((await signIn(proxied, 'xff0', 'wrong', '203.0.113.51')).status, 401, 'another client behind the proxy is not throttled');
});

test('X-Forwarded-For from a peer that is not a configured proxy is ignored', async () => {
  const direct = await startServer({ signInThrottle: quick }); // WSI_TRUST_PROXY=false
  const elsewhere = await startServer({ trustProxy: ['192.0.2.10', '10.0.0.0/8'], signInThrottle: quick }); // our peer is neither
  try {
    for (const s of [direct, elsewhere]) {
      // A fresh forged address per request changes nothing: every attempt is from 127.0.0.1.
      const spray: number[] = [];
      for (let i = 0; i < 10; i++) spray.push((await signIn(s, `forge${i}`, 'wrong', `198.18.${i}.1`)).status);
      assert.equal(spray.filter((x) => x === 429).length, 10 - quick.addressFailures);
    }
    // The backoff per (username, address) cannot be dodged by rotating the header either.
    const fresh = await startServer({ signInThrottle: quick });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await signIn(fresh, 'admin', `guess-${i}`, `198.18.1.${i}`)).status);
      assert.deepEqual(statuses.slice(0, quick.freeFailures + 1), Array(quick.freeFailures + 1).fill(401));
      assert.ok(statuses.slice(quick.freeFailures + 1).every((x) => x === 429), statuses.join(','));
    } finally {
      await fresh.stop();
      await removeDir(fresh.config.dataDir);
    }
  } finally {
    for (const s of [direct, elsewhere]) {
      await s.stop();
      await removeDir(s.config.dataDir);
    }
  }
});

test('every sign-in request from one address counts toward a per-minute cap, whatever its outcome', async () => {
  const s = await startServer({ trustProxy: ['127.0.0.1'], signInThrottle: { ...quick, addressRequestsPerMinute: 5 } });
  try {
    const password = await user(s, 'dave'); // memberOf signs in from 127.0.0.1 itself
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await signIn(s, 'dave', password, '203.0.113.60')).status);
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429]);
    const r = await signIn(s, 'dave', password, '203.0.113.60');
    assert.ok(Number(r.headers.get('retry-after')) > 0);
    assert.equal(r.headers.get('x-ratelimit-remaining'), null, 'no counters for a prober');
    assert.equal((await errorOf(r)).code, 'TOO_MANY_ATTEMPTS');
    assert.equal((await signIn(s, 'dave', password, '203.0.113.61')).status, 200);
  } finally {
    await s.stop();
    await removeDir(s.config.dataDir);
  }
});

test('a refused sign-in is answered only after a hold, so a flooder waiting for answers cannot loop fast', async () => {
  const hold = 1500;
  const s = await startServer({ signInThrottle: { ...quick, addressFailures: 1, rejectDelayMs: hold } });
  try {
    assert.equal((await signIn(s, 'admin', 'wrong')).status, 401);
    const t = performance.now();
    const r = await signIn(s, 'admin', 'wrong');
    assert.equal(r.status, 429);
    // A lower bound (timers never fire early), not a speed target.
    assert.ok(performance.now() - t >= hold - 5, `answered after ${(performance.now() - t).toFixed(0)} ms`);
  } finally {
    await s.stop();
    await removeDir(s.config.dataDir);
  }
});

test('a flood beyond the hashing queue is refused with 503 + Retry-After instead of queueing without bound', async () => {
  // Unknown users from as many addresses: no throttle applies, every request needs a hash.
  const results = await Promise.all(Array.from({ length: 60 }, (_, i) => signIn(proxied, `flood${i}`, 'wrong', `100.64.${i >> 8}.${i & 255}`)));
  const statuses = results.map((r) => r.status);
  assert.ok(statuses.every((x) => x === 401 || x === 503), statuses.join(','));
  const busy = results.filter((r) => r.status === 503);
  assert.ok(busy.length > 0, 'the queue is bounded');
  assert.ok(busy.every((r) => Number(r.headers.get('retry-after')) > 0));
  assert.equal((await errorOf(busy[0]!)).code, 'BUSY');
});

test('scrypt pool: bounded queue, results correct, thread failures reported', async () => {
  const pool = new ScryptPool(1, 2);
  try {
    const salt = new Uint8Array(16);
    const cost = { N: 1024, r: 8, p: 1 };
    const settled = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => pool.derive(`pw${i}`, salt, 32, cost)));
    // One running and two waiting are accepted, the rest refused at once.
    assert.deepEqual(
      settled.map((x) => x.status),
      ['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected', 'rejected'],
    );
    const { scryptSync } = await import('node:crypto');
    assert.deepEqual((settled[1] as PromiseFulfilledResult<Buffer>).value, scryptSync('pw1', salt, 32, cost));
    await assert.rejects(pool.derive('x', salt, 32, { N: 3, r: 8, p: 1 }), /password hashing failed/, 'an invalid cost is an error, not a hang');
    assert.equal((await pool.derive('y', salt, 32, cost)).length, 32, 'the pool still works after a failed task');
  } finally {
    await pool.close();
  }
  // A stored hash with absurd parameters is refused without hashing.
  assert.equal(await verifyPassword('x', 'scrypt$1073741824$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'), false);
});

test("password hashing does not use libuv's thread pool: file reads finish while hashes are still queued", async () => {
  // libuv's pool has 4 threads by default; 12 hashes on it would hold a file read behind at least
  // 8 of them (the old design: a 1 MiB range read took seconds during a sign-in flood).
  let done = 0;
  const hashes = Array.from({ length: 12 }, () => hashPassword('correct horse battery').then(() => done++));
  await readFile(fileURLToPath(import.meta.url));
  const doneAtRead = done;
  await Promise.all(hashes);
  assert.ok(doneAtRead < 4, `the read finished after ${doneAtRead} of 12 hashes`);
});

test('the hashing thread runs at a lower CPU priority than the event loop (Linux)', { skip: !existsSync('/proc/thread-self') && 'no per-thread priority here' }, async () => {
  await hashPassword('warm the pool up');
  const niceOf = (task: string) => Number(readFileSync(`/proc/self/task/${task}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]);
  const nices = readdirSync('/proc/self/task').map(niceOf);
  const main = niceOf(String(process.pid));
  assert.ok(main < 19, 'the process itself is not already at the lowest priority');
  assert.ok(nices.includes(Math.min(19, main + 5)), `main thread ${main}, all threads: ${nices.join(',')}`);
});

test('backoff per (username, address): free typos, doubling waits up to a cap, forgotten after a while, bounded memory', () => {
  const policy: SignInThrottlePolicy = { ...defaultSignInThrottle, freeFailures: 3, baseDelayMs: 1000, maxDelayMs: 8000, forgetAfterMs: 60_000, maxEntries: 100 };
  const b = new SignInBackoff(policy);
  let t = 1_000_000;
  const waits: number[] = [];
  for (let i = 0; i < 8; i++) {
    waits.push(b.fail('Eve', '192.0.2.1', t));
    t += waits.at(-1)!;
  }
  assert.deepEqual(waits, [0, 0, 0, 1000, 2000, 4000, 8000, 8000]);
  assert.equal(b.retryAfter('eve', '192.0.2.1', t - 1), 1, 'usernames compare case-insensitively');
  assert.equal(b.retryAfter('eve', '192.0.2.2', t - 1), 0, 'another address is not delayed');
  assert.equal(b.retryAfter('mallory', '192.0.2.1', t - 1), 0, 'another username is not delayed');
  assert.equal(b.retryAfter('eve', '192.0.2.1', t + policy.forgetAfterMs), 0, 'forgotten after a quiet period');
  assert.equal(b.fail('eve', '192.0.2.1', t + policy.forgetAfterMs), 0, 'and counting starts again');
  b.succeed('EVE', '192.0.2.1');
  assert.equal(b.size, 0);
  for (let i = 0; i < 1000; i++) b.fail(`spray${i}`, '192.0.2.3', t);
  assert.equal(b.size, policy.maxEntries);
});
