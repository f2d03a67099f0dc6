import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeStorage, storageConfigFromEnv } from '../../src/server/storage/storage-config.ts';

const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

function errorOf(env: NodeJS.ProcessEnv): string {
  try {
    storageConfigFromEnv(env, '/data');
  } catch (e) {
    return `${(e as { code?: string }).code}: ${(e as Error).message}`;
  }
  return 'no error';
}

describe('storage config', () => {
  it('is the data directory without WSI_STORAGE_URL', () => {
    assert.deepEqual(storageConfigFromEnv({}, '/data'), { kind: 'local', dataDir: '/data' });
    assert.deepEqual(storageConfigFromEnv({ WSI_STORAGE_URL: '  ' }, '/data'), { kind: 'local', dataDir: '/data' });
  });

  it('reads bucket, prefix, endpoint, region, keys and path style', () => {
    const c = storageConfigFromEnv(
      { WSI_STORAGE_URL: 's3://wsi-slides/lab//site-a/', WSI_S3_ENDPOINT: 'http://127.0.0.1:7480/', WSI_S3_REGION: 'eu-west-1', WSI_S3_ACCESS_KEY_ID: 'AKID', WSI_S3_SECRET_ACCESS_KEY: secret },
      '/data',
    );
    assert.deepEqual(c, { kind: 's3', bucket: 'wsi-slides', prefix: 'lab/site-a/', endpoint: 'http://127.0.0.1:7480', region: 'eu-west-1', credentials: { accessKeyId: 'AKID', secretAccessKey: secret }, forcePathStyle: true });
    // AWS itself: virtual-host style, default region, the SDK's credential chain.
    assert.deepEqual(storageConfigFromEnv({ WSI_STORAGE_URL: 's3://bucket' }, '/data'), { kind: 's3', bucket: 'bucket', prefix: '', region: 'us-east-1', forcePathStyle: false });
    assert.equal((storageConfigFromEnv({ WSI_STORAGE_URL: 's3://bucket', WSI_S3_ENDPOINT: 'https://s3.lab', WSI_S3_FORCE_PATH_STYLE: 'false' }, '/data') as { forcePathStyle: boolean }).forcePathStyle, false);
  });

  it('refuses what it cannot use, naming the variable and never a secret', () => {
    const cases: [NodeJS.ProcessEnv, string][] = [
      [{ WSI_STORAGE_URL: 'https://bucket' }, 'WSI_STORAGE_URL'],
      [{ WSI_STORAGE_URL: 's3://Bad_Bucket' }, 'WSI_STORAGE_URL'],
      [{ WSI_STORAGE_URL: 's3://bucket/a/../b' }, 'WSI_STORAGE_URL'],
      [{ WSI_STORAGE_URL: 's3://bucket', WSI_S3_ENDPOINT: 'ftp://host' }, 'WSI_S3_ENDPOINT'],
      [{ WSI_STORAGE_URL: 's3://bucket', WSI_S3_ENDPOINT: `http://AKID:${secret}@host` }, 'WSI_S3_ENDPOINT'],
      [{ WSI_STORAGE_URL: 's3://bucket', WSI_S3_ENDPOINT: 'http://host/path' }, 'WSI_S3_ENDPOINT'],
      [{ WSI_STORAGE_URL: 's3://bucket', WSI_S3_REGION: 'eu west' }, 'WSI_S3_REGION'],
      [{ WSI_STORAGE_URL: 's3://bucket', WSI_S3_SECRET_ACCESS_KEY: secret }, 'WSI_S3_ACCESS_KEY_ID'],
      [{ WSI_STORAGE_URL: 's3://bucket', WSI_S3_ACCESS_KEY_ID: 'AKID' }, 'WSI_S3_SECRET_ACCESS_KEY'],
      [{ WSI_STORAGE_URL: 's3://bucket', WSI_S3_FORCE_PATH_STYLE: 'maybe' }, 'WSI_S3_FORCE_PATH_STYLE'],
    ];
    for (const [env, name] of cases) {
      const err = errorOf(env);
      assert.match(err, new RegExp(`^BAD_REQUEST: environment variable ${name} `), JSON.stringify(env));
      assert.ok(!err.includes(secret), 'the secret is not in the message');
    }
  });

  it('describes itself for logs without secrets', () => {
    const c = storageConfigFromEnv({ WSI_STORAGE_URL: 's3://bucket/p', WSI_S3_ACCESS_KEY_ID: 'AKID', WSI_S3_SECRET_ACCESS_KEY: secret }, '/data');
    const text = JSON.stringify(describeStorage(c));
    assert.ok(!text.includes(secret) && !text.includes('AKID'), text);
    assert.match(text, /"bucket":"bucket"/);
  });
});
