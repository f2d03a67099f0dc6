import type { DetectContext, DetectResult } from '../formats/slide-format.ts';
import { TiffFile } from './tifflike.ts';

const KEY = 'tiff';

/** True when the first part starts with a TIFF/BigTIFF header (4 bytes read). */
export async function hasTiffMagic(ctx: DetectContext): Promise<boolean> {
  const part = ctx.parts[0];
  if (ctx.parts.length !== 1 || !part) return false;
  return TiffFile.sniff(await part.read(0, 4));
}

/** The TIFF parsed once per detect context, shared by every TIFF-family driver. */
export function tiffFromContext(ctx: DetectContext, signal?: AbortSignal): Promise<TiffFile> {
  let p = ctx.cache.get(KEY) as Promise<TiffFile> | undefined;
  if (!p) {
    p = TiffFile.open(ctx.parts[0]!, signal);
    // Keep the rejection observed so an unused cached failure never becomes an unhandled rejection.
    p.catch(() => {});
    ctx.cache.set(KEY, p);
  }
  return p;
}

/**
 * detect() of a TIFF vendor driver: cheap and never throws. `claims` looks at the parsed TIFF
 * (shared by every driver of the context); a TIFF that cannot be parsed is left to the generic
 * driver, which claims every TIFF and reports the real problem. `missing` says why not, for the
 * "not recognised" detail.
 */
export async function detectTiffVendor(ctx: DetectContext, claims: (tiff: TiffFile) => boolean | Promise<boolean>, missing: string): Promise<DetectResult> {
  if (!(await hasTiffMagic(ctx))) return { ok: false, reason: 'not a TIFF' };
  try {
    return (await claims(await tiffFromContext(ctx))) ? { ok: true } : { ok: false, reason: missing };
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.message : String(e) };
  }
}
