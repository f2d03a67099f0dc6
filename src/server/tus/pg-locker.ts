import pg, { type Pool, type PoolClient, type Notification } from 'pg';
import { ERRORS, type Lock, type Locker, type RequestRelease } from '@tus/utils';

/**
 * tus locks shared by every server instance on one PostgreSQL database, for @tus/server's `locker`.
 *
 * A lock is a session-level advisory lock on a connection held for as long as the lock is: when
 * the instance holding it dies, PostgreSQL ends its connections and the lock is free at once, so
 * an upload cut off on instance A continues through instance B without waiting for a lease.
 *
 * tus asks the holder of a lock to let go when another request wants it (a client that reconnects
 * while its old PATCH is still half-open on the server): a waiter NOTIFYs the upload id, and every
 * instance's listener calls the release callback of the request that holds it locally. Until the
 * holder lets go, the waiter polls `pg_try_advisory_lock`, up to the acquire timeout.
 */
export interface PgLockerOptions {
  /** How long a request waits for a lock before it fails (tus's default is 30 s). */
  acquireTimeoutMs?: number;
  /** Poll interval while waiting for a lock another request holds. */
  retryMs?: number;
  /** The NOTIFY channel; instances that share a database must use the same one. */
  channel?: string;
}

const DEFAULT_CHANNEL = 'wsi_tus_lock_release';
/** Keeps our advisory keys apart from any other use of hashtextextended keys in the database. */
const KEY_SEED = 0x7755;

export class PgLocker implements Locker {
  readonly acquireTimeoutMs: number;
  readonly retryMs: number;
  readonly channel: string;
  /** Release callbacks of the locks this instance holds, by upload id. */
  private readonly held = new Map<string, RequestRelease>();
  private listener: PoolClient | undefined;
  private listening: Promise<void> | undefined;
  private closed = false;

  /**
   * @param pool a pool used only for locks: every held lock keeps one of its connections, so its
   *   `max` bounds the uploads this instance can write at once.
   */
  constructor(private readonly pool: Pool, opts: PgLockerOptions = {}) {
    this.acquireTimeoutMs = opts.acquireTimeoutMs ?? 30_000;
    this.retryMs = opts.retryMs ?? 50;
    this.channel = opts.channel ?? DEFAULT_CHANNEL;
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(this.channel)) throw new Error('the lock channel must be a plain lower-case identifier');
  }

  newLock(id: string): Lock {
    return new PgLock(this, id);
  }

  /** Start listening for release requests (idempotent); lock() calls it, start-up may too. */
  listen(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the lock listener is closed'));
    this.listening ??= (async () => {
      const client = await this.pool.connect();
      // Closed while connecting: the connection goes back, or pool.end() would wait for it forever.
      if (this.closed) {
        client.release();
        return;
      }
      client.on('notification', (n: Notification) => this.onNotification(n));
      // A broken listener connection: forget it, the next lock() listens again.
      client.on('error', () => this.dropListener(client));
      await client.query(`LISTEN ${this.channel}`);
      this.listener = client;
    })().catch((e: unknown) => {
      this.listening = undefined;
      throw e;
    });
    return this.listening;
  }

  async close(): Promise<void> {
    this.closed = true;
    // A (re)connect in flight finishes first, so its connection is released below, not leaked.
    await this.listening?.catch(() => undefined);
    const l = this.listener;
    this.listener = undefined;
    this.listening = undefined;
    if (l) {
      await l.query(`UNLISTEN ${this.channel}`).catch(() => undefined);
      l.release();
    }
  }

  /** @internal PgLock's bookkeeping. */
  hold(id: string, release: RequestRelease): void {
    this.held.set(id, release);
  }

  /** @internal */
  forget(id: string): void {
    this.held.delete(id);
  }

  /** @internal Ask whoever holds `id` (this instance or another) to let go. */
  async requestRelease(client: PoolClient, id: string): Promise<void> {
    const local = this.held.get(id);
    if (local) await local();
    else await client.query('SELECT pg_notify($1, $2)', [this.channel, id]);
  }

  private onNotification(n: Notification): void {
    if (n.channel !== this.channel || !n.payload) return;
    const release = this.held.get(n.payload);
    if (release) void Promise.resolve(release()).catch(() => undefined);
  }

  private dropListener(client: PoolClient): void {
    if (this.listener !== client) return;
    this.listener = undefined;
    this.listening = undefined;
    client.release(new Error('listener connection failed'));
    if (!this.closed) void this.listen().catch(() => undefined);
  }

  /** @internal */
  connect(): Promise<PoolClient> {
    return this.pool.connect();
  }
}

class PgLock implements Lock {
  private client: PoolClient | undefined;
  private lost: ((e: Error) => void) | undefined;

  constructor(private readonly locker: PgLocker, private readonly id: string) {}

  async lock(stop: AbortSignal, requestRelease: RequestRelease): Promise<void> {
    await this.locker.listen();
    const client = await this.locker.connect();
    const deadline = Date.now() + this.locker.acquireTimeoutMs;
    let asked = false;
    try {
      for (;;) {
        const r = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, $2)) AS ok', [this.id, KEY_SEED]);
        if (r.rows[0]?.ok) break;
        if (stop.aborted || Date.now() >= deadline) throw ERRORS.ERR_LOCK_TIMEOUT;
        // Ask once: the holder's request is cancelled and unlocks when its handler unwinds.
        if (!asked) {
          asked = true;
          await this.locker.requestRelease(client, this.id);
        }
        await sleep(this.locker.retryMs, stop);
      }
    } catch (e) {
      client.release();
      throw e;
    }
    this.client = client;
    this.locker.hold(this.id, requestRelease);
    // The connection died while the lock is held (the database restarted, a network cut): the
    // lock is gone with it, so the request writing under it is asked to stop. Without a listener
    // pg would throw the error out of the process.
    this.lost = (e) => {
      if (this.client !== client) return;
      this.client = undefined;
      client.release(e);
      void Promise.resolve(requestRelease()).catch(() => undefined);
    };
    client.on('error', this.lost);
  }

  async unlock(): Promise<void> {
    const client = this.client;
    const lostConnection = this.lost !== undefined && !client;
    if (this.lost && client) client.off('error', this.lost);
    this.lost = undefined;
    this.locker.forget(this.id);
    // Its connection died: the lock went with it, there is nothing left to release.
    if (lostConnection) return;
    if (!client) throw new Error('Releasing an unlocked lock!');
    this.client = undefined;
    try {
      await client.query('SELECT pg_advisory_unlock(hashtextextended($1, $2))', [this.id, KEY_SEED]);
      client.release();
    } catch (e) {
      // The session may still hold the lock: end the connection, which frees it for sure.
      client.release(e instanceof Error ? e : new Error('unlock failed'));
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * The locker of a server instance on PostgreSQL, with a pool of its own: a held lock keeps a
 * connection for the length of a PATCH, and must never wait behind (or starve) the repos' queries.
 */
export function pgLockerFor(url: string, maxLocks = 32): { locker: PgLocker; close(): Promise<void> } {
  const pool = new pg.Pool({ connectionString: url, max: maxLocks, application_name: 'wsi-tus-locks' });
  // A lock connection that died is handled by its lock; an idle one's error must not end the process.
  pool.on('error', () => undefined);
  const locker = new PgLocker(pool);
  return {
    locker,
    async close() {
      await locker.close();
      await pool.end();
    },
  };
}
