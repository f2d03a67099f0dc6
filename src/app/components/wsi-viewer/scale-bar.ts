/**
 * The scale bar's length: the longest "round" distance (1, 2 or 5 × 10^k µm) that fits in
 * `maxPx` screen pixels at `umPerPx` micrometres per screen pixel. Shown in µm below 1 mm.
 */
export function scaleBar(umPerPx: number, maxPx = 120): { label: string; px: number } | null {
  if (!(umPerPx > 0) || !Number.isFinite(umPerPx)) return null;
  const maxUm = umPerPx * maxPx;
  const exp = Math.floor(Math.log10(maxUm));
  let um = 0;
  for (const m of [5, 2, 1]) {
    um = m * 10 ** exp;
    if (um <= maxUm) break;
  }
  // Rounded to drop float noise (0.30000000000000004 µm).
  const n = Number(um.toPrecision(1));
  const label = n >= 1000 ? `${Number((n / 1000).toPrecision(1))} mm` : `${n} µm`;
  return { label, px: n / umPerPx };
}
