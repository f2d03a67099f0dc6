import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

/** What `wsi-import upload` was asked to do, validated. */
export interface UploadOptions {
  inputs: string[];
  /** The server's origin (scheme://host:port): the API and tus endpoint live at its root. */
  server: string;
  out: string;
  manifest?: string;
  tokenFile?: string;
  /** Send the originals as they are (Direct Upload): nothing is de-identified. */
  direct: boolean;
  /** Create a case the lab does not have yet (a confirmed case number only). */
  createCases: boolean;
  /** A lone barcode proposed as the case number counts as confirmed. */
  barcodeIsCase: boolean;
  keepLabel: boolean;
  keepMacro: boolean;
  keep: string[];
  allowIncomplete: boolean;
  json: boolean;
}

/** A command line the upload cannot run with: exit 2, message + usage. */
export class UploadUsageError extends Error {}

const spec = {
  server: { type: 'string' },
  out: { type: 'string' },
  manifest: { type: 'string' },
  'token-file': { type: 'string' },
  direct: { type: 'boolean' },
  'create-cases': { type: 'boolean' },
  'barcode-is-case': { type: 'boolean' },
  'keep-label': { type: 'boolean' },
  'keep-macro': { type: 'boolean' },
  keep: { type: 'string', multiple: true },
  'allow-incomplete': { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

export function parseUploadArgs(args: string[]): UploadOptions {
  let parsed;
  try {
    parsed = parseArgs({ args, options: spec, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UploadUsageError(`upload: ${e instanceof Error ? e.message : String(e)}`);
  }
  const v = parsed.values;
  if (parsed.positionals.length === 0) throw new UploadUsageError('upload: no input files');
  if (!v.server) throw new UploadUsageError('upload: --server URL is required');
  if (!v.out) throw new UploadUsageError('upload: --out DIR is required (de-identified copies, the resume state and the batch record go there)');
  let url: URL;
  try {
    url = new URL(v.server);
  } catch {
    throw new UploadUsageError('upload: --server must be a URL such as https://wsi.example.org');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UploadUsageError('upload: --server must be an http:// or https:// URL');
  if (url.username || url.password) throw new UploadUsageError('upload: --server must not hold a user name or password (use --token-file)');
  if (v.direct && (v['keep-label'] || v['keep-macro'] || (v.keep?.length ?? 0) > 0)) {
    throw new UploadUsageError('upload: --keep, --keep-label and --keep-macro do not apply with --direct (the originals are sent as they are)');
  }
  return {
    inputs: parsed.positionals,
    server: url.origin,
    out: v.out,
    ...(v.manifest !== undefined ? { manifest: v.manifest } : {}),
    ...(v['token-file'] !== undefined ? { tokenFile: v['token-file'] } : {}),
    direct: v.direct === true,
    createCases: v['create-cases'] === true,
    barcodeIsCase: v['barcode-is-case'] === true,
    keepLabel: v['keep-label'] === true,
    keepMacro: v['keep-macro'] === true,
    keep: v.keep ?? [],
    allowIncomplete: v['allow-incomplete'] === true,
    json: v.json === true,
  };
}

/** API tokens as the server issues them (C2): 'wsi_' + 43 base64url characters. */
const TOKEN = /^wsi_[A-Za-z0-9_-]{43}$/;

/**
 * The API token: from --token-file, else the WSI_TOKEN environment variable. Never echoed, not
 * even in part, when it is malformed.
 */
export async function readToken(o: UploadOptions, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  let token: string;
  if (o.tokenFile !== undefined) {
    const text = await readFile(o.tokenFile, 'utf8').catch((e: NodeJS.ErrnoException) => {
      throw new UploadUsageError(`upload: cannot read the token file ${o.tokenFile} (${e.code ?? 'error'})`);
    });
    token = text.trim();
  } else {
    token = (env.WSI_TOKEN ?? '').trim();
    if (token === '') throw new UploadUsageError('upload: no API token: give --token-file FILE or set WSI_TOKEN (create a token on the Account page)');
  }
  if (!TOKEN.test(token)) throw new UploadUsageError(`upload: ${o.tokenFile !== undefined ? 'the token file' : 'WSI_TOKEN'} does not hold an API token (expected "wsi_" followed by 43 letters, digits, "-" or "_")`);
  return token;
}

/** A settings fingerprint: a re-run with other de-identification settings is a new batch. */
export function settingsKey(o: UploadOptions): string {
  return JSON.stringify({ direct: o.direct, keepLabel: o.keepLabel, keepMacro: o.keepMacro, keep: [...o.keep].sort(), allowIncomplete: o.allowIncomplete });
}
