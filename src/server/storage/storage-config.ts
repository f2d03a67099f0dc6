import { SlideError } from '../../shared/errors.ts';

/**
 * Where stored bytes live: the data directory (the default, today's behaviour) or an
 * S3-compatible bucket. Parsed once from the environment and validated.
 */
export type StorageConfig = LocalStorageConfig | S3StorageConfig;

export interface LocalStorageConfig {
  kind: 'local';
  /** Absolute data directory; objects are files under it (keys are relative paths). */
  dataDir: string;
}

export interface S3StorageConfig {
  kind: 's3';
  bucket: string;
  /** '' or a key prefix ending in '/': every key the server writes starts with it. */
  prefix: string;
  /** http(s)://host[:port] of an S3-compatible server; absent: AWS's own endpoint for the region. */
  endpoint?: string;
  region: string;
  /** Absent: the SDK's default credential chain (instance role, AWS_* variables, …). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Path-style URLs (http://host/bucket/key): what most self-hosted servers need. */
  forcePathStyle: boolean;
}

function bad(name: string, why: string): SlideError {
  return new SlideError('BAD_REQUEST', `environment variable ${name} ${why}`);
}

/** Bucket names as S3 allows them (3–63 lower-case letters, digits, dots, hyphens). */
const bucketPattern = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function parseStorageUrl(raw: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/?#]+)(\/[^?#]*)?$/.exec(raw.trim());
  if (!m) throw bad('WSI_STORAGE_URL', 'must look like s3://bucket or s3://bucket/prefix');
  const bucket = m[1];
  if (!bucketPattern.test(bucket)) throw bad('WSI_STORAGE_URL', 'names a bucket S3 does not allow');
  const segments = (m[2] ?? '').split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '.' || s === '..')) throw bad('WSI_STORAGE_URL', 'must not contain . or .. in its prefix');
  return { bucket, prefix: segments.length ? `${segments.join('/')}/` : '' };
}

function boolVar(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes'].includes(raw)) return true;
  if (['0', 'false', 'no'].includes(raw)) return false;
  throw bad(name, 'must be true or false');
}

/**
 * The storage the environment asks for. WSI_STORAGE_URL absent: the data directory. Secrets are
 * validated for presence only and never appear in an error message.
 */
export function storageConfigFromEnv(env: NodeJS.ProcessEnv, dataDir: string): StorageConfig {
  const url = env.WSI_STORAGE_URL?.trim();
  if (!url) return { kind: 'local', dataDir };
  const { bucket, prefix } = parseStorageUrl(url);
  const endpointRaw = env.WSI_S3_ENDPOINT?.trim();
  let endpoint: string | undefined;
  if (endpointRaw) {
    let u: URL;
    try {
      u = new URL(endpointRaw);
    } catch {
      throw bad('WSI_S3_ENDPOINT', 'must be an http:// or https:// URL');
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw bad('WSI_S3_ENDPOINT', 'must be an http:// or https:// URL');
    // Credentials belong in their own variables, where they are treated as secrets.
    if (u.username || u.password) throw bad('WSI_S3_ENDPOINT', 'must not contain credentials');
    if (u.pathname !== '/' || u.search || u.hash) throw bad('WSI_S3_ENDPOINT', 'must be just scheme, host and port');
    endpoint = u.origin;
  }
  const region = env.WSI_S3_REGION?.trim() || 'us-east-1';
  if (!/^[a-z0-9-]{1,40}$/.test(region)) throw bad('WSI_S3_REGION', 'must be a region name such as us-east-1');
  const accessKeyId = env.WSI_S3_ACCESS_KEY_ID?.trim();
  const secretAccessKey = env.WSI_S3_SECRET_ACCESS_KEY?.trim();
  if (!accessKeyId !== !secretAccessKey) throw bad(accessKeyId ? 'WSI_S3_SECRET_ACCESS_KEY' : 'WSI_S3_ACCESS_KEY_ID', 'must be set together with its pair');
  return {
    kind: 's3',
    bucket,
    prefix,
    ...(endpoint ? { endpoint } : {}),
    region,
    ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey } } : {}),
    // A custom endpoint is almost always a self-hosted server without virtual-host DNS.
    forcePathStyle: boolVar(env, 'WSI_S3_FORCE_PATH_STYLE', endpoint !== undefined),
  };
}

/** The config as it may be logged: no secrets. */
export function describeStorage(c: StorageConfig): Record<string, string | boolean> {
  if (c.kind === 'local') return { kind: 'local' };
  return { kind: 's3', bucket: c.bucket, prefix: c.prefix, endpoint: c.endpoint ?? 'aws', region: c.region, forcePathStyle: c.forcePathStyle, credentials: c.credentials ? 'static' : 'default chain' };
}
