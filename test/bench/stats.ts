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
