import type { EngineInput } from '../wsi-bulk-import/wizard-engine.ts';
import { baseName } from './selection-rules.ts';

/**
 * Is a newly picked file one the batch already has? Picking the same file twice would upload it
 * twice. Evidence, strongest first: the same file-system entry (isSameEntry on handles); the same
 * content — SHA-256 of the first and last MiB, compared only when sizes match, so a renamed copy is
 * caught and a different slide of the same size is not; after a reload, when the earlier file
 * cannot be read without asking, the same name, size and date.
 */

const MIB = 1024 * 1024;
const prints = new WeakMap<Blob, Promise<string>>();

/** SHA-256 of the first and last MiB (the whole file when smaller than 2 MiB). */
export function fingerprint(file: Blob): Promise<string> {
  let p = prints.get(file);
  if (!p) {
    const parts = file.size <= 2 * MIB ? [file] : [file.slice(0, MIB), file.slice(file.size - MIB)];
    p = new Blob(parts).arrayBuffer()
      .then((b) => crypto.subtle.digest('SHA-256', b))
      .then((d) => [...new Uint8Array(d)].map((x) => x.toString(16).padStart(2, '0')).join(''));
    prints.set(file, p);
  }
  return p;
}

/** A file already in the batch: what was stored when it was picked, and the File if it is in memory. */
export interface KnownFile {
  name: string;
  size: number;
  lastModified: number;
  file?: File;
  handle?: FileSystemHandle;
}

export type Candidate = EngineInput & { handle?: FileSystemHandle };

/** Paths of the candidates that are files the batch already has. */
export async function duplicatesOf(candidates: Candidate[], known: KnownFile[]): Promise<string[]> {
  const out: string[] = [];
  for (const c of candidates) if (await isKnown(c, known)) out.push(c.path);
  return out;
}

async function isKnown(c: Candidate, known: KnownFile[]): Promise<boolean> {
  for (const k of known) {
    if (c.handle && k.handle && (await c.handle.isSameEntry(k.handle))) return true;
    if (k.size !== c.file.size || c.file.size === 0) continue;
    if (k.file) {
      if ((await fingerprint(k.file)) === (await fingerprint(c.file))) return true;
    } else if (k.name === baseName(c.path) && k.lastModified === c.file.lastModified) return true;
  }
  return false;
}
