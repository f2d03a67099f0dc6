import type { DetectContext } from '../formats/slide-format.ts';
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
