import { createReadStream } from 'node:fs';
import { copyFile, link, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { dirname, extname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { NodeFileSource } from '../engine/io/node/file-source.ts';
import { createObjectStore } from './storage/create-object-store.ts';
import type { ClosableByteSource, ObjectStore } from './storage/object-store.ts';
import { S3ObjectStore } from './storage/s3-object-store.ts';
import type { StorageConfig } from './storage/storage-config.ts';
import { createTusDataStore, type UploadStore } from './storage/tus-datastore.ts';

/**
 * Where stored bytes live, and the one place the rest of the server asks about them: the data
 * directory (the default) or an S3-compatible bucket (WSI_STORAGE_URL). Keys are the relative
 * paths the database stores (`scans/<lab>/<scan>/part-0-….svs`): under the data directory on
 * local storage, under the bucket's prefix on S3. The data directory always exists (SQLite file,
 * temp files of zip extraction); on S3 it holds no slide bytes.
 */
export class Storage {
  readonly dataDir: string;
  readonly uploadsDir: string;
  readonly dbFile: string;
  readonly config: StorageConfig;
  readonly objects: ObjectStore;
  /** True when bytes are files on this machine's disk: disk-space checks and statfs apply only then. */
  readonly localDisk: boolean;
  private uploadStore?: UploadStore;

  constructor(dataDir: string, config?: StorageConfig) {
    this.dataDir = resolve(dataDir);
    this.uploadsDir = join(this.dataDir, 'uploads');
    this.dbFile = join(this.dataDir, 'wsi.sqlite');
    this.config = config ?? { kind: 'local', dataDir: this.dataDir };
    this.objects = createObjectStore(this.config.kind === 'local' ? { kind: 'local', dataDir: this.dataDir } : this.config);
    this.localDisk = this.config.kind === 'local';
  }

  /** The tus store of this storage (made once; tus.ts mounts it). */
  createUploadStore(expirationPeriodInMilliseconds: number, onCreateFailed?: (id: string) => void): UploadStore {
    this.uploadStore = createTusDataStore(this.config, { uploadsDir: this.uploadsDir, expirationPeriodInMilliseconds, ...(onCreateFailed ? { onCreateFailed } : {}) });
    return this.uploadStore;
  }

  /** The key of a finished tus upload's bytes (S3Store and the file store both name it by id). */
  uploadKey(uploadId: string): string {
    return `uploads/${uploadId}`;
  }

  /** The tus file store's file of an upload (local storage only). */
  uploadPath(uploadId: string): string {
    return join(this.uploadsDir, uploadId);
  }

  /**
   * Bytes the store holds of an upload (its offset), or undefined when it has none. Local: the
   * file's size; S3: what S3Store counts from the multipart upload's parts (the size once completed).
   */
  async uploadBytes(uploadId: string): Promise<number | undefined> {
    if (this.localDisk || !this.uploadStore) return stat(this.uploadPath(uploadId)).then((s) => s.size, () => undefined);
    return this.uploadStore.getUpload(uploadId).then((u) => u.offset, () => undefined);
  }

  /**
   * Delete what the tus store keeps of an upload: its bytes and its record (`<id>.json` or
   * `<id>.info`, which holds the Upload-Metadata). A finished part's bytes are also under the
   * scan's key, so removing a scan's bytes for good means removing this copy too.
   */
  async removeUpload(uploadId: string): Promise<void> {
    if (!/^[A-Za-z0-9_-]{1,128}$/.test(uploadId)) throw new Error('invalid upload id');
    if (this.localDisk) {
      const p = this.uploadPath(uploadId);
      await rm(p, { force: true });
      await rm(`${p}.json`, { force: true });
      return;
    }
    // An unfinished multipart upload is aborted (its parts would be kept, and billed, for ever).
    await this.uploadStore?.remove(uploadId).catch(() => undefined);
    for (const suffix of ['', '.info', '.part']) await this.objects.delete(`${this.uploadKey(uploadId)}${suffix}`);
  }

  /** Objects of the tus store in the bucket (housekeeping); nothing on local storage (see uploadsDir). */
  async *listUploads(): AsyncGenerator<{ key: string; lastModified: number }> {
    if (this.objects instanceof S3ObjectStore) yield* this.objects.list('uploads/');
  }

  scanDir(labId: number, scanId: number): string {
    return join('scans', String(labId), String(scanId));
  }

  /** Relative path of a stored part; only a safe, short extension of the client's name is kept. */
  partPath(labId: number, scanId: number, part: number, filename: string): string {
    const ext = extname(filename).toLowerCase();
    return join(this.scanDir(labId, scanId), `part-${part}${/^\.[a-z0-9]{1,8}$/.test(ext) ? ext : ''}`);
  }

  /** Absolute path for a DB-relative path, refusing anything that would escape the data dir (local storage). */
  abs(relative: string): string {
    const p = resolve(this.dataDir, relative);
    if (p !== this.dataDir && !p.startsWith(this.dataDir + sep)) throw new Error('path outside data directory');
    return p;
  }

  /**
   * Give a finished upload its permanent key. Local: a hard link costs no copy and keeps the scan's
   * bytes even after tus expires or terminates the upload (across file systems, a copy). S3: a
   * server-side copy of the completed object, which tus expiry (unfinished uploads only) never touches.
   */
  async adopt(uploadId: string, key: string): Promise<void> {
    if (!this.localDisk) return this.objects.copy(this.uploadKey(uploadId), key);
    const dest = this.abs(key);
    await mkdir(dirname(dest), { recursive: true });
    await rm(dest, { force: true });
    try {
      await link(this.uploadPath(uploadId), dest);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EXDEV' && (e as NodeJS.ErrnoException).code !== 'EPERM') throw e;
      await copyFile(this.uploadPath(uploadId), dest);
    }
  }

  /** A stored object as the engine's input; `name` is what engine messages call it. */
  open(key: string, name: string): Promise<ClosableByteSource> {
    return this.localDisk ? NodeFileSource.open(this.abs(key), name) : this.objects.byteSource(key, name);
  }

  /** The first `length` bytes of an object (magic numbers). */
  head(key: string, length: number): Promise<Uint8Array> {
    return this.objects.read(key, 0, length);
  }

  /** A small object's bytes (thumbnails). */
  async readAll(key: string): Promise<Buffer> {
    if (this.localDisk) return readFile(this.abs(key));
    const chunks: Buffer[] = [];
    for await (const c of await this.objects.stream(key)) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  /** Size in bytes; local storage keeps today's error for a missing file (stat's ENOENT). */
  async size(key: string): Promise<number | undefined> {
    return this.localDisk ? (await stat(this.abs(key))).size : this.objects.size(key);
  }

  /** Bytes start..end (inclusive) of an object, as a stream. */
  stream(key: string, range?: { start: number; end: number }): Promise<Readable> | Readable {
    if (this.localDisk) return createReadStream(this.abs(key), range ?? {});
    return this.objects.stream(key, range);
  }

  put(key: string, body: Uint8Array): Promise<void> {
    return this.objects.put(key, body);
  }

  putFile(key: string, path: string): Promise<void> {
    return this.objects.putFile(key, path);
  }

  remove(key: string): Promise<void> {
    return this.localDisk ? rm(this.abs(key), { force: true }) : this.objects.delete(key);
  }

  /** Remove every object under a key prefix (a folder on disk). */
  async removePrefix(prefix: string): Promise<void> {
    if (this.localDisk) await rm(this.abs(prefix), { recursive: true, force: true });
    else await this.objects.deletePrefix(prefix.endsWith('/') ? prefix : `${prefix}/`);
  }

  /** Remove every stored byte of a scan (its parts, extracted instances, thumbnail). */
  deleteScan(labId: number, scanId: number): Promise<void> {
    return this.removePrefix(this.scanDir(labId, scanId));
  }

  /** A fresh folder under the data dir for local work on bytes kept elsewhere (zip extraction on S3). */
  async tempDir(): Promise<string> {
    const root = join(this.dataDir, 'tmp');
    await mkdir(root, { recursive: true });
    return mkdtemp(join(root, 'work-'));
  }

  /** Readiness on S3: the bucket answers (HeadBucket); local storage has its folder check. */
  async probeBucket(signal: AbortSignal): Promise<void> {
    if (!(this.objects instanceof S3ObjectStore) || this.config.kind !== 's3') return;
    await this.objects.client.send(new HeadBucketCommand({ Bucket: this.config.bucket }), { abortSignal: signal });
  }

  /** Close network clients (S3): their sockets would keep the process alive. */
  close(): void {
    if (this.objects instanceof S3ObjectStore) this.objects.destroy();
    const client = (this.uploadStore as { client?: { destroy?: () => void } } | undefined)?.client;
    if (!this.localDisk) client?.destroy?.();
  }
}
