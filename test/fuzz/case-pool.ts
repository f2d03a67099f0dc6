/**
 * Runs cases in a child process under a watchdog. A CPU-bound loop cannot be interrupted from
 * inside its own thread, and a memory blow-up can take the process down, so each case runs in a
 * disposable child: past the time limit it is killed and the case is a HANG; when its RSS grows
 * past the limit (polled from /proc) it is killed and the case is MEMORY; if it dies by itself
 * the case is a CRASH (or MEMORY when V8 ran out of heap). The next case gets a fresh child.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MutationOp } from './ops.ts';
import type { FromChild, ToChild } from './protocol.ts';
import type { Outcome } from './run-case.ts';

export interface PoolOptions {
  manifestPath: string;
  /** Per-case time limit. */
  timeoutMs: number;
  /** RSS growth over the child's RSS at the start of the case that counts as a blow-up. */
  memoryLimitBytes: (inputBytes: number) => number;
  /** V8 heap cap of the child (MiB), so an unbounded heap dies early instead of swapping. */
  maxOldSpaceMb?: number;
}

export interface CaseResult {
  outcome: Outcome;
  ms: number;
  /** Peak RSS growth seen while the case ran. */
  peakRssGrowth: number;
}

const childPath = fileURLToPath(new URL('./child.ts', import.meta.url));
const PAGE = 4096;
const POLL_MS = 20;

function rssOf(pid: number): number | undefined {
  try {
    return Number(readFileSync(`/proc/${pid}/statm`, 'latin1').split(' ')[1]) * PAGE;
  } catch {
    return undefined;
  }
}

export class CasePool {
  private child: ChildProcess | undefined;
  private ready: Promise<void> | undefined;
  private stderrTail = '';
  private nextId = 1;
  /** Children started (1 + one per kill or death): shown in the figures. */
  starts = 0;

  constructor(private readonly opts: PoolOptions) {}

  private start(): Promise<void> {
    this.stderrTail = '';
    const child = fork(childPath, [this.opts.manifestPath], {
      execArgv: ['--import', 'tsx', '--expose-gc', `--max-old-space-size=${this.opts.maxOldSpaceMb ?? 1536}`],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    child.stderr?.on('data', (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString('latin1')).slice(-4000);
    });
    this.child = child;
    this.ready = new Promise((resolve, reject) => {
      const onMsg = (m: FromChild) => {
        if (m.type === 'ready') {
          child.off('message', onMsg);
          child.off('exit', onExit);
          resolve();
        }
      };
      const onExit = (code: number | null) => reject(new Error(`fuzz child failed to start (exit ${code}): ${this.stderrTail}`));
      child.on('message', onMsg);
      child.once('exit', onExit);
    });
    return this.ready;
  }

  private kill(): void {
    const c = this.child;
    this.child = undefined;
    this.ready = undefined;
    if (c && c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }

  async run(seed: string, ops: MutationOp[], inputBytes: number): Promise<CaseResult> {
    if (!this.child) {
      this.starts++;
      await this.start();
    }
    await this.ready;
    const child = this.child!;
    const pid = child.pid!;
    const id = this.nextId++;
    const base = rssOf(pid) ?? 0;
    const limit = this.opts.memoryLimitBytes(inputBytes);
    const t0 = performance.now();
    let peak = 0;
    return new Promise<CaseResult>((resolve) => {
      let done = false;
      const finish = (outcome: Outcome, killChild: boolean) => {
        if (done) return;
        done = true;
        clearInterval(poll);
        clearTimeout(timer);
        child.off('message', onMsg);
        child.off('exit', onExit);
        if (killChild) this.kill();
        resolve({ outcome, ms: performance.now() - t0, peakRssGrowth: peak });
      };
      const onMsg = (m: FromChild) => {
        if (m.type === 'result' && m.id === id) finish(m.outcome, false);
        else if (m.type === 'fatal' && (m.id === id || m.id === -1)) finish({ kind: 'crash', what: `escaped the case: ${m.what}` }, true);
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        const oom = /heap out of memory|Allocation failed|invalid array length|ERR_OUT_OF_MEMORY/i.test(this.stderrTail);
        finish(oom ? { kind: 'memory', what: `child ran out of memory (${signal ?? code})` } : { kind: 'crash', what: `child died (${signal ?? code}): ${this.stderrTail.slice(-500)}` }, true);
      };
      const poll = setInterval(() => {
        const rss = rssOf(pid);
        if (rss === undefined) return;
        peak = Math.max(peak, rss - base);
        if (peak > limit) finish({ kind: 'memory', what: `RSS grew by ${Math.round(peak / 2 ** 20)} MiB (limit ${Math.round(limit / 2 ** 20)} MiB)` }, true);
      }, POLL_MS);
      const timer = setTimeout(() => finish({ kind: 'hang', ms: this.opts.timeoutMs }, true), this.opts.timeoutMs);
      child.on('message', onMsg);
      child.once('exit', onExit);
      child.send({ type: 'case', id, seed, ops } satisfies ToChild);
    });
  }

  close(): void {
    const c = this.child;
    this.child = undefined;
    this.ready = undefined;
    if (c && c.exitCode === null) c.disconnect();
  }
}
