import { createHmac, randomBytes } from 'node:crypto';
import { mkdir, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The batch secret of an output folder: UID remapping key and the salt of output ownership records. */
export const KEY_FILE = '.wsi-import-key';

const HEX_KEY = /^([0-9a-fA-F]{2}){16,}$/;

export class BatchKeyError extends Error {}

/** A UID key given on the command line must be at least 16 bytes of hex (the engine's rule). */
export function isValidUidKey(hex: string): boolean {
  return HEX_KEY.test(hex);
}

/**
 * The secret stored in `<out>/.wsi-import-key`, created on first use (32 random bytes, hex, mode
 * 0600). Keeping it beside the outputs is what makes a retry into the same folder reproduce the
 * same UIDs; it is never printed. Created with O_EXCL so two runs starting together agree.
 */
export async function loadOrCreateBatchKey(outDir: string): Promise<string> {
  await mkdir(outDir, { recursive: true });
  const path = join(outDir, KEY_FILE);
  const fresh = randomBytes(32).toString('hex');
  const fh = await open(path, 'wx', 0o600).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'EEXIST') return undefined;
    throw new BatchKeyError(`cannot create the batch key file in ${outDir} (${e.code ?? 'error'})`);
  });
  if (fh) {
    try {
      await fh.writeFile(`${fresh}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    return fresh;
  }
  const stored = (await readFile(path, 'utf8')).trim();
  // Deliberately not echoed: the message names the file, never its content.
  if (!isValidUidKey(stored)) throw new BatchKeyError(`${path} does not hold a valid key; delete it (new UIDs) or pass --uid-key`);
  return stored;
}

/** A keyed, non-reversible fingerprint (input paths may themselves name a patient). */
export function fingerprint(secretHex: string, identity: string): string {
  return createHmac('sha256', Buffer.from(secretHex, 'hex')).update(`output-owner\0${identity}`).digest('hex').slice(0, 32);
}
