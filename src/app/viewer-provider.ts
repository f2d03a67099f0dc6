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
  return providerFor(opened.key, opened.levels);
}

export function providerFor(key: string, levels: { imageId: string; width: number; height: number; tileWidth: number; tileHeight: number }[]): TileProvider {
  return {
    levels,
    async tile(level, col, row) {
      return engine().tileBitmap(key, levels[level].imageId, col, row);
    },
  };
}
