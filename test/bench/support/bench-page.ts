// What the browser benchmarks share: bundling their page and workers as the product build does,
// and a static file server on a free loopback port for Chromium to load them from.
import * as esbuild from 'esbuild';
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));

/**
 * Bundles `entryPoints` (output name → source path relative to the repository) into `outdir`,
 * minified ES modules for the browser. Product workers keep esbuild.config.mjs's entry names
 * (engine.worker, hash.worker): the engine client finds them by URL.
 */
export async function bundleForBrowser(entryPoints: Record<string, string>, outdir: string): Promise<void> {
  await esbuild.build({
    entryPoints,
    absWorkingDir: root,
    outdir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
  });
}

const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.svs': 'image/tiff' };

/**
 * Serves files on 127.0.0.1 (a free port): from one folder, or from several by the URL's first
 * path segment (`{ '': pageDir, slides: slidesDir }`: /slides/a.svs comes from slidesDir).
 */
export function serveStatic(dirs: string | Record<string, string>): Promise<Server> {
  const byPrefix = typeof dirs === 'string' ? { '': dirs } : dirs;
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!).replace(/^\/+/, '') || 'index.html';
    if (path.includes('..')) return void res.writeHead(400).end();
    const [first, ...rest] = path.split('/');
    const [dir, name] = first && rest.length && byPrefix[first] ? [byPrefix[first]!, rest.join('/')] : [byPrefix['']!, path];
    try {
      const body = await readFile(join(dir, name));
      res.writeHead(200, { 'content-type': types[extname(name)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}
