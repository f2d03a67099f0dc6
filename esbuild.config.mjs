// Builds the PWA (page, engine and hash workers, service worker) into dist/public and the server into
// dist/server. The service worker is built last: its precache manifest lists the other outputs
// with content hashes, so a changed file is re-fetched and an unchanged one is not.
import * as esbuild from 'esbuild';
import { createHash } from 'node:crypto';
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

const root = new URL('.', import.meta.url).pathname;
const out = join(root, 'dist/public');
const watch = process.argv.includes('--watch');
const common = { bundle: true, sourcemap: true, target: 'es2022', logLevel: 'warning', legalComments: 'none' };

// The WebAssembly codecs (JPEG 2000, JPEG-LS) stay out of every bundle: the engine imports their
// Emscripten glue lazily from codecs/<package>-decode.js beside the worker (see
// src/engine/codecs/wasm-loader.ts), so here each glue gets an ES default export and its .wasm
// goes next to it; they are fetched only for slides with such tiles, and precached like every
// built file so the installed app decodes them offline.
const wasmCodecs = [
  { pkg: 'codec-openjpeg', glue: 'openjpegwasm_decode.js', wasm: 'openjpegwasm_decode.wasm', global: 'OpenJPEGWASM' },
  { pkg: 'codec-charls', glue: 'charlswasm_decode.js', wasm: 'charlswasm_decode.wasm', global: 'CharLSWASM' },
];

async function writeWasmCodecs() {
  await mkdir(join(out, 'codecs'), { recursive: true });
  for (const c of wasmCodecs) {
    const dist = join(root, 'node_modules/@cornerstonejs', c.pkg, 'dist');
    const glue = await readFile(join(dist, c.glue), 'utf8');
    await writeFile(join(out, 'codecs', `${c.pkg}-decode.js`), `${glue}\nexport default ${c.global};\n`);
    await cp(join(dist, c.wasm), join(out, 'codecs', c.wasm));
  }
  // The barcode reader (zxing-wasm, src/engine/barcode/zxing-reader.ts): its JS is bundled into the
  // worker, its .wasm goes here — never from the package's default CDN.
  await cp(join(root, 'node_modules/zxing-wasm/dist/reader/zxing_reader.wasm'), join(out, 'codecs', 'zxing_reader.wasm'));
}

async function buildAll() {
  await rm(join(root, 'dist'), { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  await cp(join(root, 'public'), out, { recursive: true });
  // OpenSeadragon's navigation button images, served from our origin (the app works offline).
  await cp(join(root, 'node_modules/openseadragon/build/openseadragon/images'), join(out, 'osd-images'), { recursive: true });

  await esbuild.build({
    ...common,
    entryPoints: { app: 'src/app/main.ts', 'engine.worker': 'src/workers/engine.worker.ts', 'hash.worker': 'src/workers/hash.worker.ts' },
    outdir: out,
    format: 'esm',
    platform: 'browser',
    minify: true,
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  await writeWasmCodecs();

  await esbuild.build({
    ...common,
    entryPoints: { main: 'src/server/main.ts' },
    outdir: join(root, 'dist/server'),
    format: 'esm',
    platform: 'node',
    packages: 'external',
  });
  // Data the server reads beside its module (new URL('./x', import.meta.url)): the password policy's list.
  await cp(join(root, 'src/server/auth/common-passwords.txt'), join(root, 'dist/server/common-passwords.txt'));

  const manifest = await precacheManifest(out);
  await esbuild.build({
    ...common,
    entryPoints: { sw: 'sw/sw.ts' },
    outdir: out,
    format: 'iife',
    platform: 'browser',
    // Minified + NODE_ENV production, or workbox logs debug output on every fetch.
    minify: true,
    define: { 'process.env.NODE_ENV': '"production"', 'self.__WB_MANIFEST': JSON.stringify(manifest) },
  });
}

/** The app shell: every built file except source maps and the service worker itself. */
async function precacheManifest(dir) {
  const entries = [];
  for (const file of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!file.isFile()) continue;
    const path = join(file.parentPath ?? file.path, file.name);
    const url = '/' + relative(dir, path).split('\\').join('/');
    if (url.endsWith('.map') || url === '/sw.js') continue;
    const revision = createHash('sha256').update(await readFile(path)).digest('hex').slice(0, 16);
    entries.push({ url, revision });
  }
  return entries.sort((a, b) => a.url.localeCompare(b.url));
}

await buildAll();
if (!watch) process.stdout.write('build: dist/public and dist/server written\n');
