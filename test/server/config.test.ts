import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { loadConfig } from '../../src/server/config.ts';

test('defaults', () => {
  const c = loadConfig({});
  assert.equal(c.port, 8080);
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.dataDir, resolve('./data'));
  assert.equal(c.adminUser, 'admin');
  assert.equal(c.adminPassword, undefined);
  assert.equal(c.maxUploadBytes, 64 * 1024 ** 3);
  assert.equal(c.publicDir, resolve('dist/public'));
  assert.equal(c.cookieSecure, 'auto');
});

test('environment variables are read and validated', () => {
  const c = loadConfig({ WSI_PORT: '9001', WSI_HOST: '0.0.0.0', WSI_DATA_DIR: '/tmp/x', WSI_ADMIN_USER: 'boss', WSI_ADMIN_PASSWORD: 'secret-123', WSI_MAX_UPLOAD_BYTES: '1000', WSI_UPLOAD_EXPIRY_HOURS: '2', WSI_COOKIE_SECURE: 'true', WSI_LOG_LEVEL: 'off' });
  assert.equal(c.port, 9001);
  assert.equal(c.host, '0.0.0.0');
  assert.equal(c.dataDir, '/tmp/x');
  assert.equal(c.adminUser, 'boss');
  assert.equal(c.adminPassword, 'secret-123');
  assert.equal(c.maxUploadBytes, 1000);
  assert.equal(c.uploadExpiryHours, 2);
  assert.equal(c.cookieSecure, true);
  assert.equal(c.logLevel, false);
  assert.throws(() => loadConfig({ WSI_PORT: 'eighty' }), /WSI_PORT/);
  assert.throws(() => loadConfig({ WSI_PORT: '70000' }), /WSI_PORT/);
  assert.throws(() => loadConfig({ WSI_ADMIN_PASSWORD: 'short' }), /WSI_ADMIN_PASSWORD/);
  assert.throws(() => loadConfig({ WSI_ADMIN_USER: 'has space' }), /WSI_ADMIN_USER/);
  assert.throws(() => loadConfig({ WSI_COOKIE_SECURE: 'maybe' }), /WSI_COOKIE_SECURE/);
});

test('WSI_TRUST_PROXY: false by default, otherwise a list of proxy addresses/CIDRs; "true" (trust every sender) is refused', () => {
  assert.deepEqual(loadConfig({}).trustProxy, []);
  assert.deepEqual(loadConfig({ WSI_TRUST_PROXY: 'false' }).trustProxy, []);
  assert.deepEqual(loadConfig({ WSI_TRUST_PROXY: '127.0.0.1' }).trustProxy, ['127.0.0.1']);
  assert.deepEqual(loadConfig({ WSI_TRUST_PROXY: ' 10.0.0.0/8, 192.168.1.5 ::1,fd00::/8 loopback' }).trustProxy, ['10.0.0.0/8', '192.168.1.5', '::1', 'fd00::/8', 'loopback']);
  assert.throws(() => loadConfig({ WSI_TRUST_PROXY: 'true' }), /WSI_TRUST_PROXY.*reverse proxy addresses/);
  assert.throws(() => loadConfig({ WSI_TRUST_PROXY: '1' }), /WSI_TRUST_PROXY/);
  assert.throws(() => loadConfig({ WSI_TRUST_PROXY: 'proxy.lab.example' }), /WSI_TRUST_PROXY.*proxy\.lab\.example/);
  assert.throws(() => loadConfig({ WSI_TRUST_PROXY: '10.0.0.0/33' }), /WSI_TRUST_PROXY/);
  assert.throws(() => loadConfig({ WSI_TRUST_PROXY: '10.0.0.1/8/8' }), /WSI_TRUST_PROXY/);
});
