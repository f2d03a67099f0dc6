import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time of this process's descendants (Chromium's processes, the server), per process kind and
 * thread name, from /proc (Linux): where the cores go during a browser bench. Diff two snapshots.
 */
export type CpuSnapshot = Map<string, number>;

const TICK_MS = 10; // USER_HZ is 100 on Linux

function statFields(path: string): string[] | null {
  try {
    const s = readFileSync(path, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

function descendants(): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    const pid = Number(d);
    const f = Number.isInteger(pid) ? statFields(`/proc/${pid}/stat`) : null;
    if (f) parent.set(pid, Number(f[1]));
  }
  const mine = new Set<number>([process.pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, pp] of parent) if (!mine.has(pid) && mine.has(pp)) (mine.add(pid), (grew = true));
  }
  mine.delete(process.pid);
  return [...mine];
}

function kindOf(pid: number): string {
  try {
    // Chromium rewrites its command line with spaces between the arguments.
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split(/[\0 ]/);
    if (cmd[0]?.includes('chrom')) return `chromium ${cmd.find((a) => a.startsWith('--type='))?.slice(7) ?? 'browser'}${cmd.some((a) => a.includes('NetworkService')) ? ' (network)' : ''}`;
    return cmd.some((a) => a.includes('server/main.js')) ? 'server' : (cmd[0]?.split('/').pop() ?? '?');
  } catch {
    return '?';
  }
}

/** CPU ms so far by "process kind / thread name" (threads of one name summed). */
export function cpuSnapshot(): CpuSnapshot {
  const out: CpuSnapshot = new Map();
  for (const pid of descendants()) {
    const kind = kindOf(pid);
    // The whole process too: a thread that ended (a terminated worker) is counted only here.
    const pf = statFields(`/proc/${pid}/stat`);
    if (pf) out.set(`${kind} (process)`, (out.get(`${kind} (process)`) ?? 0) + (Number(pf[11]) + Number(pf[12])) * TICK_MS);
    let tids: string[] = [];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      const f = statFields(`/proc/${pid}/task/${tid}/stat`);
      if (!f) continue;
      let name = '?';
      try {
        name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim().replace(/[0-9]+$/, '');
      } catch {
        // exited meanwhile
      }
      // Workers share one thread name: tell them apart by thread id.
      const key = `${kind} / ${name}${name === 'DedicatedWorker' ? ` ${tid}` : ''}`;
      out.set(key, (out.get(key) ?? 0) + (Number(f[11]) + Number(f[12])) * TICK_MS);
    }
  }
  return out;
}

/** CPU ms spent between two snapshots, largest first (entries under `minMs` left out). */
export function cpuSpent(before: CpuSnapshot, after: CpuSnapshot, minMs = 200): { key: string; ms: number }[] {
  const out: { key: string; ms: number }[] = [];
  for (const [key, ms] of after) {
    const d = ms - (before.get(key) ?? 0);
    if (d >= minMs) out.push({ key, ms: d });
  }
  return out.sort((a, b) => b.ms - a.ms);
}
