import type { RgbaImage } from './types.ts';

/**
 * zxing-wasm's reader, loaded without the network. By default the package fetches its .wasm from
 * a CDN (jsDelivr): slides are PHI and the app works offline, so the module is always prepared
 * with our own bytes or URL before the first read:
 *  - Node (CLI, tests): the .wasm read from node_modules and handed over as `wasmBinary`;
 *  - built app: codecs/zxing_reader.wasm beside the worker bundle (esbuild.config.mjs copies it;
 *    the service worker precaches it like the other codecs);
 *  - TypeScript served as-is (browser tests): the .wasm from /node_modules.
 * The package's JS is bundled into the worker (it is small); the .wasm (~1 MB) is fetched on the
 * first barcode search only.
 */

export const ZXING_WASM_FILE = 'zxing_reader.wasm';

/** The formats searched: what slide labels carry (1-D and 2-D); fewer formats, faster reads. */
export const BARCODE_FORMATS = [
  'Code128', 'Code39', 'Code93', 'Codabar', 'ITF', 'EAN13', 'EAN8', 'UPCA', 'UPCE',
  'DataMatrix', 'QRCode', 'MicroQRCode', 'PDF417', 'Aztec',
] as const;

type ReaderModule = typeof import('zxing-wasm/reader');

const isNode = typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';
const servedAsTypeScript = import.meta.url.split(/[?#]/)[0]!.endsWith('.ts');

/** The browser URL of the .wasm; undefined in Node (bytes are read from disk instead). */
export function zxingWasmUrl(): string | undefined {
  if (isNode) return undefined;
  return servedAsTypeScript
    ? new URL(`/node_modules/zxing-wasm/dist/reader/${ZXING_WASM_FILE}`, import.meta.url).href
    : new URL(`./codecs/${ZXING_WASM_FILE}`, import.meta.url).href;
}

async function nodeWasmBytes(): Promise<ArrayBuffer> {
  const resolve = (import.meta as { resolve?: (s: string) => string }).resolve;
  if (!resolve) throw new Error('import.meta.resolve is not available');
  const fsName = 'node:fs/promises';
  const urlName = 'node:url';
  // Typed by hand: this module is also compiled for the worker, which has no Node types.
  const { readFile } = (await import(/* Node only, never bundled */ fsName)) as { readFile: (path: string) => Promise<Uint8Array> };
  const { fileURLToPath } = (await import(/* Node only, never bundled */ urlName)) as { fileURLToPath: (url: string) => string };
  const bytes = await readFile(fileURLToPath(resolve(`zxing-wasm/reader/${ZXING_WASM_FILE}`)));
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

let reader: Promise<ReaderModule> | undefined;

/** The reader module, prepared once with local wasm; a failed load is retried on the next call. */
export function zxingReader(): Promise<ReaderModule> {
  reader ??= (async () => {
    const zx = await import('zxing-wasm/reader');
    const url = zxingWasmUrl();
    // Replacing the overrides replaces the package's CDN locateFile as a whole.
    const overrides = url
      ? { locateFile: (path: string, prefix: string) => (path.endsWith('.wasm') ? url : prefix + path) }
      : { wasmBinary: await nodeWasmBytes(), locateFile: (path: string) => `local-only:${path}` };
    await zx.prepareZXingModule({ overrides, fireImmediately: true });
    return zx;
  })().catch((e: unknown) => {
    reader = undefined;
    throw e;
  });
  return reader;
}

export interface DecodedSymbol {
  text: string;
  format: string;
}

/** Every valid barcode in the image (none when the image holds none). */
export async function readSymbols(img: RgbaImage): Promise<DecodedSymbol[]> {
  const zx = await zxingReader();
  const results = await zx.readBarcodes(img as unknown as Parameters<ReaderModule['readBarcodes']>[0], {
    formats: [...BARCODE_FORMATS],
    tryHarder: true,
    // Sideways labels (on a macro) and upside-down slides: zxing tries 90/180/270° itself.
    tryRotate: true,
    tryInvert: true,
    maxNumberOfSymbols: 8,
  });
  return results.filter((r) => r.isValid && r.text.length > 0).map((r) => ({ text: r.text, format: r.format }));
}
