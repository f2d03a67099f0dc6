import { LocalObjectStore } from './local-object-store.ts';
import type { ObjectStore } from './object-store.ts';
import { S3ObjectStore } from './s3-object-store.ts';
import type { StorageConfig } from './storage-config.ts';

/** The object store a storage config names: the data directory (keys = today's relative paths) or a bucket. */
export function createObjectStore(config: StorageConfig): ObjectStore {
  return config.kind === 's3' ? new S3ObjectStore(config) : new LocalObjectStore(config.dataDir);
}
