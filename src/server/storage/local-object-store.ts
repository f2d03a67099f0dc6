import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, link, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import { NodeFileSource } from '../../engine/io/node/file-source.ts';
import { SlideError } from '../../shared/errors.ts';
import { checkKey, notFound, type ClosableByteSource, type ObjectStore } from './object-store.ts';

function isMissing(e: unknown): boolean {
  return (e as NodeJS.ErrnoException).code === 'ENOENT';
}

function ioError(what: string, e: unknown): SlideError {
  if (e instanceof SlideError) return e;
  return new SlideError('IO', `${what} failed (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { cause: e });
}

/**
 * Objects as files under the data directory: today's behaviour, and the default. A put writes a
 * temp file beside the target and renames it, so a reader never sees half an object.
 */
export class LocalObjectStore implements ObjectStore {
  readonly kind = 'local' as const;
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** Absolute path of a key (checked: it cannot leave the root). */
  path(key: string): string {
    const p = resolve(this.root, checkKey(key));
    if (!p.startsWith(this.root + sep)) throw new SlideError('BAD_REQUEST', 'invalid storage key');
    return p;
  }

  private async writeVia(key: string, write: (tmp: string) => Promise<void>): Promise<void> {
    const dest = this.path(key);
    const tmp = join(dirname(dest), `.${randomBytes(6).toString('hex')}.tmp`);
    try {
      await mkdir(dirname(dest), { recursive: true });
      await write(tmp);
      await rename(tmp, dest);
    } catch (e) {
      await rm(tmp, { force: true }).catch(() => undefined);
      throw ioError(`storing ${key}`, e);
    }
  }

  put(key: string, body: Readable | Uint8Array): Promise<void> {
    return this.writeVia(key, (tmp) => pipeline(body instanceof Uint8Array ? Readable.from([body]) : body, createWriteStream(tmp)));
  }

  putFile(key: string, path: string): Promise<void> {
    return this.writeVia(key, (tmp) => copyFile(path, tmp));
  }

  async copy(fromKey: string, toKey: string): Promise<void> {
    const from = this.path(fromKey);
    if (!(await this.exists(fromKey))) throw notFound(fromKey);
    // A hard link costs no copy (what Storage.adopt does today); across file systems, a copy.
    await this.writeVia(toKey, (tmp) =>
      link(from, tmp).catch((e: unknown) => {
        if ((e as NodeJS.ErrnoException).code !== 'EXDEV' && (e as NodeJS.ErrnoException).code !== 'EPERM') throw e;
        return copyFile(from, tmp);
      }),
    );
  }

  async read(key: string, offset: number, length: number): Promise<Uint8Array> {
    const src = await this.byteSource(key, key);
    try {
      return await src.read(offset, length);
    } finally {
      await src.close();
    }
  }

  async stream(key: string, range: { start?: number; end?: number } = {}): Promise<Readable> {
    // Opened first so a missing key is an error here, not on the stream later.
    const fh = await open(this.path(key), 'r').catch((e: unknown) => {
      throw isMissing(e) ? notFound(key) : ioError(`reading ${key}`, e);
    });
    return createReadStream('', { fd: fh.fd, start: range.start ?? 0, ...(range.end !== undefined ? { end: range.end } : {}), autoClose: true }).on('close', () => void fh.close().catch(() => undefined));
  }

  async size(key: string): Promise<number | undefined> {
    try {
      const s = await stat(this.path(key));
      return s.isFile() ? s.size : undefined;
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw ioError(`checking ${key}`, e);
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.size(key)) !== undefined;
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true }).catch((e: unknown) => {
      throw ioError(`deleting ${key}`, e);
    });
  }

  async deletePrefix(prefix: string): Promise<number> {
    const dir = this.path(checkKey(prefix, { prefix: true }).replace(/\/$/, ''));
    const count = await countFiles(dir);
    await rm(dir, { recursive: true, force: true }).catch((e: unknown) => {
      throw ioError(`deleting ${prefix}`, e);
    });
    return count;
  }

  async byteSource(key: string, name: string): Promise<ClosableByteSource> {
    if (!(await this.exists(key))) throw notFound(key);
    return NodeFileSource.open(this.path(key), name);
  }
}

async function countFiles(dir: string): Promise<number> {
  let n = 0;
  try {
    for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) n++;
  } catch (e) {
    if (!isMissing(e)) throw ioError('listing', e);
  }
  return n;
}
