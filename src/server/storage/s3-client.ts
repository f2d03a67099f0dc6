import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { SlideError } from '../../shared/errors.ts';
import type { S3StorageConfig } from './storage-config.ts';

/**
 * The SDK client options for a config. Checksums only when an operation requires them: the SDK's
 * default (a CRC trailer on every upload, streamed as aws-chunked) is not understood by every
 * S3-compatible server: Ceph RGW 16 answers a stream body sent that way (S3Store uploads every
 * part as a file stream) with 411 MissingContentLength. TLS protects the bytes in transit.
 */
export function s3ClientConfig(c: S3StorageConfig): S3ClientConfig {
  return {
    region: c.region,
    forcePathStyle: c.forcePathStyle,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...(c.endpoint ? { endpoint: c.endpoint } : {}),
    ...(c.credentials ? { credentials: c.credentials } : {}),
  };
}

export function statusOf(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

export function isMissing(e: unknown): boolean {
  const name = (e as { name?: string }).name;
  return name === 'NoSuchKey' || name === 'NotFound' || statusOf(e) === 404;
}

/** The SDK's error as ours: the S3 error name and status only (messages may echo request data). */
export function ioError(what: string, e: unknown): SlideError {
  if (e instanceof SlideError) return e;
  const name = (e as { name?: string }).name ?? 'error';
  return new SlideError('IO', `${what} failed (${name}${statusOf(e) ? ` ${statusOf(e)}` : ''})`, { cause: e });
}
