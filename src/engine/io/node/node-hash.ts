import { createHash } from 'node:crypto';
import type { Hasher, HasherFactory } from '../../redact/sha256.ts';

export const nodeSha256: HasherFactory = (): Hasher => {
  const h = createHash('sha256');
  return {
    update: (bytes) => void h.update(bytes),
    digestHex: () => h.digest('hex'),
  };
};
