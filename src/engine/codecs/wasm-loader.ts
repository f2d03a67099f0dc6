/**
 * Lazy loading of the WebAssembly codecs (OpenJPEG, CharLS; decode-only Emscripten builds from
 * @cornerstonejs/codec-*): nothing is fetched or compiled until the first JPEG 2000 / JPEG-LS tile.
 *
 * The glue is never bundled (its Node branch requires fs, which browser bundles cannot resolve,
 * and it would weigh on every slide): the specifier is not a literal, so bundlers leave it alone.
 *  - Node: the package itself, which reads its .wasm from node_modules;
 *  - built app: codecs/<pkg>-decode.js beside the worker bundle, the glue with an ES export
 *    (esbuild.config.mjs), its .wasm beside it;
 *  - TypeScript served as-is (the browser tests bundle each .ts on request): the glue from
 *    node_modules, given the same export through a blob: module, the .wasm from node_modules.
 */

/** The options of an Emscripten module factory that we set. */
export interface EmscriptenCodecOptions {
  locateFile?: (path: string, prefix: string) => string;
  print?: (text: string) => void;
  printErr?: (text: string) => void;
}

export type CodecPackage = 'codec-openjpeg' | 'codec-charls';

/** Per package: the glue and .wasm file names in its dist/, and the global the glue defines. */
export const CODEC_FILES: Record<CodecPackage, { glue: string; wasm: string; global: string }> = {
  'codec-openjpeg': { glue: 'openjpegwasm_decode.js', wasm: 'openjpegwasm_decode.wasm', global: 'OpenJPEGWASM' },
  'codec-charls': { glue: 'charlswasm_decode.js', wasm: 'charlswasm_decode.wasm', global: 'CharLSWASM' },
};

/** What a codec printed while decoding (OpenJPEG reports failures only by printing "[ERROR] …"). */
export interface CodecConsole {
  errors: string[];
}

type Factory<M> = (options?: EmscriptenCodecOptions) => Promise<M>;

const isNode = typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';
const servedAsTypeScript = import.meta.url.split(/[?#]/)[0]!.endsWith('.ts');

async function importFactory<M>(pkg: CodecPackage): Promise<Factory<M>> {
  const files = CODEC_FILES[pkg];
  let spec: string;
  if (isNode) spec = `@cornerstonejs/${pkg}/decodewasmjs`;
  else if (!servedAsTypeScript) spec = new URL(`./codecs/${pkg}-decode.js`, import.meta.url).href;
  else {
    const res = await fetch(new URL(`/node_modules/@cornerstonejs/${pkg}/dist/${files.glue}`, import.meta.url));
    if (!res.ok) throw new Error(`${files.glue}: HTTP ${res.status}`);
    spec = URL.createObjectURL(new Blob([await res.text(), `\nexport default ${files.global};\n`], { type: 'text/javascript' }));
  }
  try {
    return ((await import(/* not bundled, see above */ spec)) as { default: Factory<M> }).default;
  } finally {
    if (spec.startsWith('blob:')) URL.revokeObjectURL(spec);
  }
}

/** Where the browser fetches a codec's .wasm (undefined in Node: the glue reads it from disk). */
function wasmUrl(pkg: CodecPackage): string | undefined {
  if (isNode) return undefined;
  const file = CODEC_FILES[pkg].wasm;
  return servedAsTypeScript
    ? new URL(`/node_modules/@cornerstonejs/${pkg}/dist/${file}`, import.meta.url).href
    : new URL(`./codecs/${file}`, import.meta.url).href;
}

/**
 * Instantiate an Emscripten codec once. A codec that throws may have aborted its runtime (then
 * every later call fails too), so `reset` drops the instance and the next tile gets a fresh one.
 */
export function lazyCodec<M>(pkg: CodecPackage): { get: () => Promise<{ module: M; console: CodecConsole }>; reset: () => void } {
  let instance: Promise<{ module: M; console: CodecConsole }> | undefined;
  const create = async () => {
    const factory = await importFactory<M>(pkg);
    const console: CodecConsole = { errors: [] };
    const url = wasmUrl(pkg);
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
