import { TerminableFileStore } from '../tus/terminable-store.ts';
import { s3ClientConfig } from './s3-client.ts';
import { HashingS3Store } from './hashing-s3-store.ts';
import type { S3StorageConfig, StorageConfig } from './storage-config.ts';

/**
 * S3 part size for tus uploads. The client sends 32 MiB PATCHes: a part size that divides 32 MiB
 * makes every PATCH end on a part boundary, so S3Store never parks an "incomplete part" object
 * that the next PATCH must download and re-send. 16 MiB × 10,000 parts (S3's limit) = 156 GiB,
 * above the 64 GiB upload limit, so S3Store never raises it to a size that would not divide.
 */
export const tusS3PartSize = 16 * 1024 * 1024;

/** What src/server/tus/tus.ts uses of either store: running hashes, stopWrite, onBodyStart. */
export type UploadStore = TerminableFileStore | HashingS3Store;

export interface TusStoreOptions {
  /** The data directory's uploads folder (local storage). */
  uploadsDir: string;
  expirationPeriodInMilliseconds: number;
  /** Local storage: called when creating an upload's file failed (see HashingFileStore). */
  onCreateFailed?: (id: string) => void;
}

export function createS3TusStore(c: S3StorageConfig, expirationPeriodInMilliseconds: number): HashingS3Store {
  return new HashingS3Store(
    {
      partSize: tusS3PartSize,
      expirationPeriodInMilliseconds,
      // Expiry is done by tus (deleteExpired lists unfinished multipart uploads), not by bucket
      // lifecycle rules on object tags, which not every S3-compatible server applies.
      useTags: false,
      // A PATCH's parts go up a few at a time: 2 cores, and memory for parts buffered on disk.
      maxConcurrentPartUploads: 4,
      s3ClientConfig: { ...s3ClientConfig(c), bucket: c.bucket },
    },
    `${c.prefix}uploads/`,
  );
}

/**
 * The tus DataStore for a storage config: the hashing, terminable file store in the data directory
 * (today's), or the hashing S3Store for a bucket (same sha256/onBodyStart; no stopWrite yet: see
 * TerminableFileStore, whose gate would wrap either store).
 */
export function createTusDataStore(config: StorageConfig, options: TusStoreOptions): UploadStore {
  if (config.kind === 's3') return createS3TusStore(config, options.expirationPeriodInMilliseconds);
  return new TerminableFileStore({ directory: options.uploadsDir, expirationPeriodInMilliseconds: options.expirationPeriodInMilliseconds }, options.onCreateFailed);
}
