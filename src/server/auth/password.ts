import { randomBytes, timingSafeEqual } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { SlideError } from '../../shared/errors.ts';
import { ApiError } from '../http/api-error.ts';

// scrypt cost: N=2^15, r=8 (~32 MiB, tens of ms per check) — slow enough to hurt offline guessing,
// fast enough for interactive logins on a 2-core server.
const params = { N: 32768, r: 8, p: 1 } as const;
const keyLength = 32;
/** Stored hashes are ours, but a corrupted row must not make the hashing thread allocate gigabytes. */
const maxN = 1 << 20;
const maxR = 32;
const maxP = 16;

/** How much nicer than the process the hashing threads run (nice values: 0 normal, 19 lowest). */
const hashingNice = 5;

/**
 * The hashing thread runs scryptSync: node's async scrypt would queue on libuv's thread pool, the
 * same four threads that serve file reads, and a sign-in flood then held a 1 MiB range read for
 * 11–16 s. Plain CommonJS source (like engine/io/node/node-hash.ts) so it runs the same under tsx
 * and in the esbuild bundle. Passwords and keys cross by postMessage only; nothing is logged.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { scryptSync } = require('node:crypto');
// A lower CPU priority for this thread only (Linux takes a thread id where others take a process
// id): when the cores are busy, the event loop and file I/O go first, sign-ins wait a little.
// Measured on 2 cores (npm run bench signin): a flood slowed range reads 1.3–2.6× without it,
// 0.9–1.3× with it. Elsewhere (no /proc/thread-self): normal priority.
try {
  const tid = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop());
  const os = require('node:os');
  if (Number.isSafeInteger(tid) && tid > 0) os.setPriority(tid, Math.min(19, os.getPriority(tid) + ${hashingNice}));
} catch {}
parentPort.on('message', (t) => {
  try {
    // maxmem must cover 128*N*r bytes plus slack, or node refuses N=2^15.
    const key = scryptSync(t.password, Buffer.from(t.salt), t.length, { N: t.N, r: t.r, p: t.p, maxmem: 256 * 1024 * 1024 });
    parentPort.postMessage({ id: t.id, key: new Uint8Array(key) });
  } catch (e) {
    parentPort.postMessage({ id: t.id, error: e && e.message ? String(e.message) : 'scrypt failed' });
  }
});`;

interface Task {
  id: number;
  password: string;
  salt: Uint8Array;
  length: number;
  N: number;
  r: number;
  p: number;
  resolve(key: Buffer): void;
  reject(e: unknown): void;
}

interface Slot {
  worker: Worker;
  task: Task | null;
}

/** The answer when the hashing queue is full: the client should retry shortly, nothing is wrong. */
export const hashingBusyRetrySeconds = 2;

export function hashingBusy(): ApiError {
  return new ApiError(503, 'BUSY', `The server is busy with other sign-ins. Try again in ${hashingBusyRetrySeconds} seconds.`);
}

/**
 * A few threads that only run scrypt, with a bounded queue: a flood of sign-ins costs at most
 * these threads' CPU and a fixed amount of memory, and beyond the queue it is refused (503)
 * instead of piling up requests. Threads are unref'd while idle so they never keep a process alive,
 * and ref'd while they hold work someone awaits (or a pending hash could be dropped at exit).
 */
export class ScryptPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private nextId = 1;
  private closed = false;

  constructor(
    // One core stays for the event loop and file I/O; more than two hashing threads would only
    // let a flood take more of a bigger machine.
    readonly threads = Math.max(1, Math.min(2, availableParallelism() - 1)),
    // At ~0.1 s per hash, 16 waiting per thread is under two seconds of queue: a lab signing in at
    // once fits, a flood is refused (503 + Retry-After) instead of making everyone wait longer.
    readonly maxQueued = 16 * threads,
  ) {}

  /** Tasks waiting for a thread (not counting those running). */
  get queued(): number {
    return this.queue.length;
  }

  derive(password: string, salt: Uint8Array, length: number, cost: { N: number; r: number; p: number }): Promise<Buffer> {
    if (this.closed) return Promise.reject(new SlideError('INTERNAL', 'password hashing has stopped'));
    const idle = this.idleSlot();
    if (!idle && this.queue.length >= this.maxQueued) return Promise.reject(hashingBusy());
    return new Promise<Buffer>((resolve, reject) => {
      const task: Task = { id: this.nextId++, password, salt, length, ...cost, resolve, reject };
      if (idle) this.run(idle, task);
      else this.queue.push(task);
    });
  }

  /** Stops the threads; queued and running work is rejected. */
  async close(): Promise<void> {
    this.closed = true;
    const err = new SlideError('INTERNAL', 'password hashing has stopped');
    for (const t of this.queue.splice(0)) t.reject(err);
    await Promise.all(
      this.slots.splice(0).map((s) => {
        s.task?.reject(err);
        s.task = null;
        return s.worker.terminate();
      }),
    );
  }

  private idleSlot(): Slot | undefined {
    const free = this.slots.find((s) => s.task === null);
    if (free) return free;
    if (this.slots.length < this.threads) return this.spawn();
    return undefined;
  }

  private spawn(): Slot {
    const slot: Slot = { worker: new Worker(WORKER_SOURCE, { eval: true, name: 'scrypt' }), task: null };
    slot.worker.unref();
    slot.worker.on('message', (m: { id: number; key?: Uint8Array; error?: string }) => {
      const t = slot.task;
      if (!t || t.id !== m.id) return;
      slot.task = null;
      if (m.key) t.resolve(Buffer.from(m.key.buffer, m.key.byteOffset, m.key.byteLength));
      else t.reject(new SlideError('INTERNAL', 'password hashing failed', { detail: m.error }));
      this.next(slot);
    });
    // A thread that dies (out of memory, a bug) fails its task and is replaced on demand.
    const lost = (e: unknown): void => {
      const i = this.slots.indexOf(slot);
      if (i < 0) return;
      this.slots.splice(i, 1);
      const t = slot.task;
      slot.task = null;
      t?.reject(new SlideError('INTERNAL', 'password hashing failed', { cause: e }));
      const waiting = this.queue.shift();
      if (waiting && !this.closed) this.run(this.idleSlot()!, waiting);
    };
    slot.worker.on('error', lost);
    slot.worker.on('exit', (code) => lost(new Error(`hashing thread exited (${code})`)));
    this.slots.push(slot);
    return slot;
  }

  private run(slot: Slot, task: Task): void {
    slot.task = task;
    slot.worker.ref();
    const { id, password, salt, length, N, r, p } = task;
    slot.worker.postMessage({ id, password, salt, length, N, r, p });
  }

  private next(slot: Slot): void {
    const t = this.queue.shift();
    if (t) this.run(slot, t);
    else slot.worker.unref();
  }
}

/** One pool per process: hashing capacity is a property of the machine, not of one app instance. */
export const passwordHashing = new ScryptPool();

function derive(password: string, salt: Uint8Array, cost: { N: number; r: number; p: number }, length: number): Promise<Buffer> {
  return passwordHashing.derive(password.normalize('NFC'), salt, length, cost);
}

/** 'scrypt$N$r$p$salt$hash' (base64url), so parameters can be raised later without breaking old hashes. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, params, keyLength);
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, saltB64, keyB64] = stored.split('$');
  if (scheme !== 'scrypt' || !saltB64 || !keyB64) return false;
  const cost = { N: Number(n), r: Number(r), p: Number(p) };
  const sane = (v: number, max: number) => Number.isSafeInteger(v) && v >= 1 && v <= max;
  if (!sane(cost.N, maxN) || (cost.N & (cost.N - 1)) !== 0 || !sane(cost.r, maxR) || !sane(cost.p, maxP)) return false;
  const expected = Buffer.from(keyB64, 'base64url');
  if (expected.length < 16) return false;
  const key = await derive(password, Buffer.from(saltB64, 'base64url'), cost, expected.length);
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A random password for the first admin: 20 characters from an unambiguous alphabet (~115 bits). */
export function generatePassword(length = 20): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  let out = '';
  // Rejection sampling keeps the distribution uniform (256 is not a multiple of the alphabet size).
  const limit = 256 - (256 % alphabet.length);
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      if (b < limit && out.length < length) out += alphabet[b % alphabet.length];
    }
  }
  return out;
}

let dummy: Promise<string> | undefined;

/**
 * A hash of a password no one knows: failed logins for unknown users verify against it so they cost
 * the same as real ones. Made on first use (not at import, which would start a thread in every
 * process that merely imports this module); a failed attempt (queue full) is retried next time.
 */
export function dummyHash(): Promise<string> {
  if (!dummy) {
    dummy = hashPassword(randomBytes(16).toString('hex'));
    dummy.catch(() => (dummy = undefined));
  }
  return dummy;
}
