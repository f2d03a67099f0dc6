/** Display helpers shared by pages. Sizes in binary units, as file managers show them. */
export function formatBytes(n: number | null | undefined): string {
  if (n == null || !Number.isFinite(n)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

export function formatDims(w: number | null | undefined, h: number | null | undefined): string {
  return w && h ? `${w.toLocaleString('en-US')} × ${h.toLocaleString('en-US')}` : '—';
}

export function formatMpp(mpp: { x: number; y: number } | null | undefined): string {
  if (!mpp) return 'MPP unknown';
  const r = (v: number) => Number(v.toPrecision(4));
  return mpp.x === mpp.y ? `${r(mpp.x)} µm/px` : `${r(mpp.x)} × ${r(mpp.y)} µm/px`;
}

/**
 * What the lab calls a scan: its display name (the neutral name a de-identified upload got, or
 * what the lab renamed it to), else the uploaded file's name — the same on every page, so the scan
 * picked in the Scans view is the one the case and scan pages show.
 */
export function scanName(s: { name?: string; originalFilename: string }): string {
  return s.name || s.originalFilename;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}
