import type { ScanSummary } from './api.ts';
import type { TileProvider } from './components/wsi-viewer/tile-provider.ts';
import { engine } from './engine-client.ts';

/**
 * A TileProvider for a stored scan: the engine worker opens the server's copy through HTTP Range
 * (the same drivers as the import) and decodes tiles off the main thread.
 */
export async function openRemoteProvider(scan: ScanSummary): Promise<TileProvider> {
  const parts = scan.parts;
  const urls = Array.from({ length: parts }, (_, i) => new URL(`/api/scans/${scan.id}/file?part=${i}`, location.href).href);
  // A slide opened by its parts' names (MIRAX: X.mrxs, X/Slidedat.ini, …) needs them in the worker.
  const names = scan.files?.length === parts && scan.files.every((f) => f.name) ? [...scan.files].sort((a, b) => a.part - b.part).map((f) => f.name!) : undefined;
  const opened = await engine().openRemote(urls, scan.originalFilename, names);
  const local = providerFor(opened.key, opened.levels, opened.summary.images);
  return {
    ...local,
    // The thumbnail the server made at ingest, else the slide's own thumbnail image.
    async placeholder() {
      const res = await fetch(`/api/scans/${scan.id}/thumbnail`, { credentials: 'same-origin' }).catch(() => null);
      if (res?.ok) return createImageBitmap(await res.blob()).catch(() => local.placeholder!());
      return local.placeholder!();
    },
  };
}

/**
 * `images`: the slide's images; when one is its thumbnail, it is the viewer's placeholder (cheap:
 * one small image, unlike a single-level slide's smallest level).
 */
export function providerFor(key: string, levels: { imageId: string; width: number; height: number; tileWidth: number; tileHeight: number }[], images: { role: string }[] = []): TileProvider {
  const hasThumbnail = images.some((i) => i.role === 'thumbnail');
  return {
    levels,
    async tile(level, col, row) {
      return engine().tileBitmap(key, levels[level].imageId, col, row);
    },
    async placeholder() {
      if (!hasThumbnail) return null;
      return (await engine().thumbnail(key, 512).catch(() => null))?.bitmap ?? null;
    },
  };
}
