/** Bytes for people in messages: 1.5 GiB, 320 MiB, 12 KiB. */
export function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} bytes` : `${v >= 100 ? Math.round(v) : Number(v.toFixed(1))} ${units[u]}`;
}
