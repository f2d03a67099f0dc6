import { readdirSync, readFileSync } from 'node:fs';

/** Chromium's processes and their memory, read from /proc (Linux): for the browser benches. */

/** Chromium's processes under this Node process, by kind (browser, renderer, gpu-process, ...). */
export function chromiumProcesses(): { pid: number; kind: string }[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    const pid = Number(d);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      parent.set(pid, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // exited meanwhile
    }
  }
  const mine = new Set<number>([process.pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, pp] of parent) if (!mine.has(pid) && mine.has(pp)) (mine.add(pid), (grew = true));
  }
  mine.delete(process.pid);
  const out: { pid: number; kind: string }[] = [];
  for (const pid of mine) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split(/[\0 ]/);
      if (!cmd[0]?.includes('chrom')) continue;
      out.push({ pid, kind: cmd.find((a) => a.startsWith('--type='))?.slice(7) ?? 'browser' });
    } catch {
      // exited meanwhile
    }
  }
  return out;
}


export function rss(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}
