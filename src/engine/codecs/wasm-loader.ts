/**
 * Lazy loading of the WebAssembly codecs (OpenJPEG, CharLS): nothing is fetched or compiled until
 * the first JPEG 2000 / JPEG-LS tile. In Node the Emscripten glue finds its .wasm beside itself in
 * node_modules; in a browser the .wasm is located explicitly:
 *  - built app (esbuild.config.mjs): glue and .wasm are in `codecs/` beside the worker bundle;
 *  - TypeScript served as-is (browser tests bundle each .ts on request): straight from node_modules.
 */

/** The options of an Emscripten module factory that we set. */
export interface EmscriptenCodecOptions {
  locateFile?: (path: string, prefix: string) => string;
  print?: (text: string) => void;
  printErr?: (text: string) => void;
}

/** What a codec printed while decoding (OpenJPEG reports failures only by printing "[ERROR] …"). */
export interface CodecConsole {
  errors: string[];
}

const isNode = typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';
const servedAsTypeScript = import.meta.url.split(/[?#]/)[0]!.endsWith('.ts');

/** Where the browser fetches a codec's .wasm (undefined in Node: the glue reads it from disk). */
export function wasmUrl(pkg: 'codec-openjpeg' | 'codec-charls', file: string): string | undefined {
  if (isNode) return undefined;
  return servedAsTypeScript
    ? new URL(`/node_modules/@cornerstonejs/${pkg}/dist/${file}`, import.meta.url).href
    : new URL(`./codecs/${file}`, import.meta.url).href;
}

/**
 * Instantiate an Emscripten codec once. A codec that throws may have aborted its runtime (then
 * every later call fails too), so `reset` drops the instance and the next tile gets a fresh one.
 */
export function lazyCodec<M>(
  load: () => Promise<{ default: (options?: EmscriptenCodecOptions) => Promise<M> }>,
  pkg: 'codec-openjpeg' | 'codec-charls',
  wasmFile: string,
): { get: () => Promise<{ module: M; console: CodecConsole }>; reset: () => void } {
  let instance: Promise<{ module: M; console: CodecConsole }> | undefined;
  const create = async () => {
    const { default: factory } = await load();
    const console: CodecConsole = { errors: [] };
    const url = wasmUrl(pkg, wasmFile);
    const module = await factory({
      // Codec chatter ([INFO]/[WARNING]) is not ours to print; errors are kept for the caller.
      print: (text) => void (text.includes('[ERROR]') && console.errors.push(text)),
      printErr: (text) => void console.errors.push(text),
      ...(url ? { locateFile: (path: string, prefix: string) => (path.endsWith('.wasm') ? url : prefix + path) } : {}),
    });
    return { module, console };
  };
  return {
    get: () => {
      instance ??= create().catch((e: unknown) => {
        instance = undefined;
        throw e;
      });
      return instance;
    },
    reset: () => void (instance = undefined),
  };
}
