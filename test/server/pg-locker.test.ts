/**
 * tus locks across server instances (PgLocker) on a real PostgreSQL: two lockers with pools of
 * their own stand for two instances. Runs in the PostgreSQL phase of the suite
 * (WSI_TEST_DATABASE_URL, set by test/run-all.mjs); the SQLite phase has no database to lock in.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { PgLocker } from '../../src/server/tus/pg-locker.ts';

const url = process.env.WSI_TEST_DATABASE_URL;
const skip = url ? false : 'needs PostgreSQL: runs in the suite\'s PostgreSQL phase (WSI_TEST_DATABASE_URL)';
// A lock that is never released would hang the run: each test fails after this instead.
const timeout = 30_000;

interface Instance {
  pool: pg.Pool;
  locker: PgLocker;
  close(): Promise<void>;
}

function instance(channel: string, acquireTimeoutMs = 5_000): Instance {
  // application_name tells this "instance's" sessions apart (the dead-instance test ends them).
  const pool = new pg.Pool({ connectionString: url, max: 4, application_name: `wsi-locker-${randomUUID().slice(0, 8)}` });
  // A terminated backend (the "dead instance" test) surfaces as an idle-client error: expected.
  pool.on('error', () => undefined);
  const locker = new PgLocker(pool, { channel, acquireTimeoutMs, retryMs: 20 });
  return { pool, locker, close: async () => { await locker.close(); await pool.end(); } };
}

const never = new AbortController().signal;

test('a lock held by one instance is released on request from another, then taken there', { skip, timeout }, async () => {
  const channel = `t_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const a = instance(channel);
  const b = instance(channel);
  try {
    const id = randomUUID();
    const lockA = a.locker.newLock(id);
    let asked = 0;
    await lockA.lock(never, async () => {
      asked++;
      await lockA.unlock();
    });
    const started = Date.now();
    const lockB = b.locker.newLock(id);
    await lockB.lock(never, () => undefined);
    await lockB.unlock();
    assert.equal(asked, 1, 'the holder on instance A was asked to let go once');
    assert.ok(Date.now() - started < 4_000, 'B did not have to wait for the acquire timeout');
  } finally {
    await a.close();
    await b.close();
  }
});

test('two uploads do not block each other; one upload is exclusive until unlocked', { skip, timeout }, async () => {
  const channel = `t_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const a = instance(channel, 300);
  const b = instance(channel, 300);
  try {
    const [x, y] = [randomUUID(), randomUUID()];
    const lx = a.locker.newLock(x);
    await lx.lock(never, () => undefined); // ignores release requests
    const ly = b.locker.newLock(y);
    await ly.lock(never, () => undefined);
    await assert.rejects(b.locker.newLock(x).lock(never, () => undefined), (e: { status_code?: number; body?: string }) => e.body === 'failed to acquire lock before timeout');
    await lx.unlock();
    const again = b.locker.newLock(x);
    await again.lock(never, () => undefined);
    await again.unlock();
    await ly.unlock();
    await assert.rejects(ly.unlock(), /unlocked lock/);
  } finally {
    await a.close();
    await b.close();
  }
});

test('the lock of an instance that died is free at once (its connections ended)', { skip, timeout }, async () => {
  const channel = `t_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const a = instance(channel, 200);
  const b = instance(channel, 200);
  try {
    const id = randomUUID();
    await a.locker.newLock(id).lock(never, () => undefined);
    await assert.rejects(b.locker.newLock(id).lock(never, () => undefined));
    // "Kill" instance A: PostgreSQL ends its sessions, as when its process dies.
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const ended = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [a.pool.options.application_name]);
      assert.ok(ended.rowCount! >= 2, 'the lock holder and the listener were ended');
    } finally {
      await admin.end();
    }
    const lock = b.locker.newLock(id);
    await lock.lock(never, () => undefined);
    await lock.unlock();
  } finally {
    await a.close().catch(() => undefined);
    await b.close();
  }
});

test('an aborted request stops waiting for a lock', { skip, timeout }, async () => {
  const channel = `t_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const a = instance(channel, 10_000);
  try {
    const id = randomUUID();
    const held = a.locker.newLock(id);
    await held.lock(never, () => undefined);
    const stop = new AbortController();
    const started = Date.now();
    setTimeout(() => stop.abort(), 100);
    await assert.rejects(a.locker.newLock(id).lock(stop.signal, () => undefined));
    assert.ok(Date.now() - started < 5_000);
    await held.unlock();
  } finally {
    await a.close();
  }
});
