import type { Readable } from 'node:stream';
import type { ByteSource } from '../../engine/io/byte-source.ts';
import { SlideError } from '../../shared/errors.ts';

/** A ByteSource the caller must close (a file handle, or a cache of fetched ranges). */
export interface ClosableByteSource extends ByteSource {
  close(): Promise<void>;
}

/**
 * What the server does with stored bytes, whatever holds them (the data directory, an S3 bucket).
 * Keys are relative, '/'-separated paths built from ids (`scans/<lab>/<scan>/part-0.svs`): never
 * a client's name, so they may appear in logs and errors.
 *
 * Errors are SlideErrors: 'NOT_FOUND' for a missing key, 'IO' for anything else the store failed at.
 */
export interface ObjectStore {
  readonly kind: 'local' | 's3';
  /** Store a whole object (replacing any with that key). A stream is consumed to its end. */
  put(key: string, body: Readable | Uint8Array): Promise<void>;
  /** Store a local file's bytes under key. */
  putFile(key: string, path: string): Promise<void>;
  /** Bytes [offset, offset+length); fewer only at the end of the object. */
  read(key: string, offset: number, length: number): Promise<Uint8Array>;
  /** The object's bytes from `start` (default 0) to `end` inclusive (default: the last). */
  stream(key: string, range?: { start?: number; end?: number }): Promise<Readable>;
  /** Size in bytes, or undefined when there is no such object. */
  size(key: string): Promise<number | undefined>;
  exists(key: string): Promise<boolean>;
  /**
   * Copy an object to another key (replacing any there) without sending its bytes through this
   * process where the store can avoid it: a hard link on disk, a server-side copy in S3.
   */
  copy(fromKey: string, toKey: string): Promise<void>;
  /** Remove one object; a missing key is not an error. */
  delete(key: string): Promise<void>;
  /** Remove every object whose key starts with prefix (which must end in '/'); returns how many. */
  deletePrefix(prefix: string): Promise<number>;
  /** The object as the engine's random-access input; `name` is what engine messages call it. */
  byteSource(key: string, name: string): Promise<ClosableByteSource>;
}

/**
 * Refuse keys that could escape the store's root or mean different things to different stores:
 * absolute, empty or dot segments, backslashes, control characters.
 */
export function checkKey(key: string, { prefix = false } = {}): string {
  const body = prefix ? key.replace(/\/$/, '') : key;
  const ok =
    key.length > 0 &&
    key.length <= 900 &&
    !key.startsWith('/') &&
    !/[\\\u0000-\u001f\u007f]/.test(key) &&
    body.split('/').every((s) => s !== '' && s !== '.' && s !== '..') &&
    (!prefix || key.endsWith('/'));
  if (!ok) throw new SlideError('BAD_REQUEST', prefix ? 'invalid storage prefix' : 'invalid storage key');
  return key;
}

export function notFound(key: string): SlideError {
  return new SlideError('NOT_FOUND', `stored object ${key} not found`);
}
