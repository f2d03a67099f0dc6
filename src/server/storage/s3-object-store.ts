import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { SlideError } from '../../shared/errors.ts';
import { checkKey, notFound, type ClosableByteSource, type ObjectStore } from './object-store.ts';
import { RangedSource, type RangedSourceOptions } from './ranged-source.ts';
import type { S3StorageConfig } from './storage-config.ts';
import { ioError, isMissing, s3ClientConfig, statusOf } from './s3-client.ts';

export interface S3ObjectStoreOptions {
  /** Multipart part size for put() (S3's minimum is 5 MiB except for the last part). */
  partSize?: number;
  ranged?: RangedSourceOptions;
  /**
   * copy(): objects up to this size in one CopyObject (S3 allows 5 GiB), larger ones as a
   * multipart copy in parts of this size.
   */
  copyPartSize?: number;
}

/** Objects in an S3-compatible bucket, every key under the config's prefix. */
export class S3ObjectStore implements ObjectStore {
  readonly kind = 's3' as const;
  readonly client: S3Client;
  private readonly partSize: number;
  /** Requests made, by kind (tests and benchmarks: how many GETs did ingest take?). */
  readonly requests = { get: 0, head: 0, put: 0, delete: 0, list: 0 };

  constructor(private readonly config: S3StorageConfig, private readonly options: S3ObjectStoreOptions = {}) {
    this.client = new S3Client(s3ClientConfig(config));
    this.partSize = Math.max(5 * 1024 * 1024, options.partSize ?? 16 * 1024 * 1024);
  }

  private k(key: string): string {
    return this.config.prefix + checkKey(key);
  }

  async put(key: string, body: Readable | Uint8Array): Promise<void> {
    const Key = this.k(key);
    const Bucket = this.config.bucket;
    try {
      if (body instanceof Uint8Array && body.length <= this.partSize) {
        this.requests.put++;
        await this.client.send(new PutObjectCommand({ Bucket, Key, Body: body, ContentLength: body.length }));
        return;
      }
      const chunks = partsOf(body instanceof Uint8Array ? Readable.from([body]) : body, this.partSize);
      const first = await chunks.next();
      const firstPart = first.done ? new Uint8Array(0) : first.value;
      if (firstPart.length < this.partSize) {
        // The whole object fits in one part: a plain PUT (multipart needs every part but the last ≥ 5 MiB).
        this.requests.put++;
        await this.client.send(new PutObjectCommand({ Bucket, Key, Body: firstPart, ContentLength: firstPart.length }));
        return;
      }
      this.requests.put++;
      const { UploadId } = await this.client.send(new CreateMultipartUploadCommand({ Bucket, Key }));
      try {
        const parts: { PartNumber: number; ETag: string }[] = [];
        let part: Uint8Array | undefined = firstPart;
        for (let n = 1; part; n++) {
          this.requests.put++;
          const r = await this.client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: n, Body: part, ContentLength: part.length }));
          parts.push({ PartNumber: n, ETag: r.ETag ?? '' });
          const next = await chunks.next();
          part = next.done ? undefined : next.value;
        }
        this.requests.put++;
        await this.client.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: parts } }));
      } catch (e) {
        // Parts of an unfinished multipart upload are kept (and billed) until aborted.
        await this.client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })).catch(() => undefined);
        throw e;
      }
    } catch (e) {
      throw ioError(`storing ${key}`, e);
    }
  }

  async copy(fromKey: string, toKey: string): Promise<void> {
    const Bucket = this.config.bucket;
    const Key = this.k(toKey);
    // CopySource is "bucket/key", URL-encoded (keys are ids and safe characters, but '/' stays).
    const CopySource = encodeURI(`${Bucket}/${this.k(fromKey)}`);
    const size = await this.size(fromKey);
    if (size === undefined) throw notFound(fromKey);
    const partSize = this.options.copyPartSize ?? 5 * 1024 * 1024 * 1024;
    try {
      if (size <= partSize) {
        this.requests.put++;
        await this.client.send(new CopyObjectCommand({ Bucket, Key, CopySource }));
        return;
      }
      this.requests.put++;
      const { UploadId } = await this.client.send(new CreateMultipartUploadCommand({ Bucket, Key }));
      try {
        const parts: { PartNumber: number; ETag: string }[] = [];
        for (let n = 1, at = 0; at < size; n++, at += partSize) {
          this.requests.put++;
          const r = await this.client.send(new UploadPartCopyCommand({ Bucket, Key, UploadId, PartNumber: n, CopySource, CopySourceRange: `bytes=${at}-${Math.min(size, at + partSize) - 1}` }));
          parts.push({ PartNumber: n, ETag: r.CopyPartResult?.ETag ?? '' });
        }
        this.requests.put++;
        await this.client.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: parts } }));
      } catch (e) {
        await this.client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })).catch(() => undefined);
        throw e;
      }
    } catch (e) {
      if (isMissing(e)) throw notFound(fromKey);
      throw ioError(`copying ${fromKey}`, e);
    }
  }

  putFile(key: string, path: string): Promise<void> {
    return this.put(key, createReadStream(path, { highWaterMark: 1024 * 1024 }));
  }

  async read(key: string, offset: number, length: number): Promise<Uint8Array> {
    if (length <= 0) return new Uint8Array(0);
    this.requests.get++;
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.config.bucket, Key: this.k(key), Range: `bytes=${offset}-${offset + length - 1}` }));
      return await r.Body!.transformToByteArray();
    } catch (e) {
      if (isMissing(e)) throw notFound(key);
      // A range that starts at or past the end: "fewer bytes only at the end" means none.
      if (statusOf(e) === 416) return new Uint8Array(0);
      throw ioError(`reading ${key}`, e);
    }
  }

  async stream(key: string, range: { start?: number; end?: number } = {}): Promise<Readable> {
    this.requests.get++;
    const start = range.start ?? 0;
    const Range = start > 0 || range.end !== undefined ? `bytes=${start}-${range.end ?? ''}` : undefined;
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.config.bucket, Key: this.k(key), ...(Range ? { Range } : {}) }));
      // In Node the body is the HTTP response stream itself.
      return r.Body as Readable;
    } catch (e) {
      if (isMissing(e)) throw notFound(key);
      throw ioError(`reading ${key}`, e);
    }
  }

  async size(key: string): Promise<number | undefined> {
    this.requests.head++;
    try {
      const r = await this.client.send(new HeadObjectCommand({ Bucket: this.config.bucket, Key: this.k(key) }));
      return r.ContentLength ?? 0;
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw ioError(`checking ${key}`, e);
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.size(key)) !== undefined;
  }

  async delete(key: string): Promise<void> {
    this.requests.delete++;
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.config.bucket, Key: this.k(key) }));
    } catch (e) {
      if (!isMissing(e)) throw ioError(`deleting ${key}`, e);
    }
  }

  async deletePrefix(prefix: string): Promise<number> {
    const Prefix = this.config.prefix + checkKey(prefix, { prefix: true });
    let deleted = 0;
    try {
      // Listing after each batch of deletes starts over: what is listed next is what is left.
      for (;;) {
        this.requests.list++;
        const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.config.bucket, Prefix, MaxKeys: 1000 }));
        const keys = (page.Contents ?? []).map((o) => o.Key).filter((k): k is string => !!k);
        if (!keys.length) return deleted;
        this.requests.delete++;
        const r = await this.client.send(new DeleteObjectsCommand({ Bucket: this.config.bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }));
        if (r.Errors?.length) throw new SlideError('IO', `deleting ${prefix} failed (${r.Errors.length} objects: ${r.Errors[0].Code ?? 'error'})`);
        deleted += keys.length;
      }
    } catch (e) {
      throw ioError(`deleting ${prefix}`, e);
    }
  }

  /** Keys under a prefix (ending in '/') with their last change, page by page (S3 only: housekeeping). */
  async *list(prefix: string): AsyncGenerator<{ key: string; lastModified: number }> {
    const Prefix = this.config.prefix + checkKey(prefix, { prefix: true });
    let ContinuationToken: string | undefined;
    do {
      this.requests.list++;
      const page = await this.client
        .send(new ListObjectsV2Command({ Bucket: this.config.bucket, Prefix, MaxKeys: 1000, ...(ContinuationToken ? { ContinuationToken } : {}) }))
        .catch((e: unknown) => {
          throw ioError(`listing ${prefix}`, e);
        });
      for (const o of page.Contents ?? []) if (o.Key) yield { key: o.Key.slice(this.config.prefix.length), lastModified: o.LastModified?.getTime() ?? 0 };
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  async byteSource(key: string, name: string): Promise<ClosableByteSource & { fetches: number }> {
    const size = await this.size(key);
    if (size === undefined) throw notFound(key);
    return new RangedSource(size, name, (offset, length) => this.read(key, offset, length), this.options.ranged);
  }

  destroy(): void {
    this.client.destroy();
  }
}

/** A stream cut into parts of exactly `size` bytes (the last may be shorter; none empty unless the stream is). */
async function* partsOf(stream: Readable, size: number): AsyncGenerator<Uint8Array> {
  let buf = Buffer.allocUnsafe(size);
  let filled = 0;
  for await (const chunk of stream) {
    let c = chunk as Buffer;
    while (c.length) {
      const n = Math.min(c.length, size - filled);
      c.copy(buf, filled, 0, n);
      filled += n;
      c = c.subarray(n);
      if (filled === size) {
        yield buf;
        buf = Buffer.allocUnsafe(size);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield buf.subarray(0, filled);
}
