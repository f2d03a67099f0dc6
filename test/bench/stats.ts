/**
 * How the throughput benches compare two timings on a noisy 2-core machine: each side runs
 * ROUNDS times, alternating, and the medians are compared (single runs of the same copy varied
 * from 0.7 to 1.6 s here; a mean of two let one slow run decide the ratio).
 */
export const ROUNDS = Math.max(1, Number(process.env.WSI_BENCH_ROUNDS ?? 5));

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Wall and CPU time (all threads of this process: workers and libuv's I/O pool included). */
export async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number; cpuMs: number }> {
  const cpu = process.cpuUsage();
  const t = performance.now();
  const value = await fn();
  const ms = performance.now() - t;
  const used = process.cpuUsage(cpu);
  return { value, ms, cpuMs: (used.user + used.system) / 1000 };
}

/**
 * Why a ratio target can be out of reach on this machine: a redaction needs `redactCpuMs` of CPU
 * (copy, SHA-256, PHI sweep, on every core it can use); on `cores` cores it cannot take less than
 * redactCpuMs / cores, so copyMs over that is the best ratio this machine allows however well the
 * stages overlap. Reported next to the measured ratio.
 */
export function cpuCeilingRows(bench: string, copyCpuMs: number, redactCpuMs: number, copyMs: number, cores: number) {
  return [
    { bench, metric: 'copy CPU, all threads (median)', value: copyCpuMs / 1000, unit: 's' },
    { bench, metric: 'redaction CPU, all threads (median)', value: redactCpuMs / 1000, unit: 's' },
    { bench, metric: `best ratio ${cores} cores allow (copy time / (redaction CPU / ${cores}))`, value: copyMs / (redactCpuMs / cores), unit: 'x' },
  ];
}
