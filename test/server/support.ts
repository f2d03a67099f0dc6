import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { buildApp, type BuiltApp } from '../../src/server/app.ts';
import { defaultConfig, type ServerConfig } from '../../src/server/config.ts';
import { hashPassword } from '../../src/server/auth/password.ts';
import type { Role } from '../../src/server/db/repos/labs.ts';
import { createTestDatabase } from '../support/postgres.ts';
import { storageConfigFromEnv, type S3StorageConfig } from '../../src/server/storage/storage-config.ts';
import { S3ObjectStore } from '../../src/server/storage/s3-object-store.ts';

export const repoRoot = resolve(fileURLToPath(import.meta.url), '../../..');
export const fixturesDir = resolve(repoRoot, '../shared/fixtures');
export const adminPassword = 'admin-test-password';

export interface TestServer {
  url: string;
  port: number;
  built: BuiltApp;
  config: ServerConfig;
  stop(): Promise<void>;
}

/**
 * With WSI_TEST_DATABASE_URL (postgres://… of a cluster, e.g. test/support/postgres.ts's), every
 * data dir gets its own fresh PostgreSQL database instead of its SQLite file: a server restarted
 * on the same data dir (tests of restarts stop a server and start one on its dir) finds its data
 * again. The database goes with the data dir, at removeDir(); one a test leaves behind goes with
 * the throwaway cluster.
 */
const testDatabaseUrl = process.env.WSI_TEST_DATABASE_URL?.trim() || undefined;
const databases = new Map<string, { url: string; drop(): Promise<void> }>();

/** The database URL the app of `dataDir` uses under WSI_TEST_DATABASE_URL (created on first use); undefined on SQLite. */
export async function testDatabaseFor(dataDir: string): Promise<string | undefined> {
  if (!testDatabaseUrl) return undefined;
  let db = databases.get(dataDir);
  if (!db) {
    db = await createTestDatabase(testDatabaseUrl);
    databases.set(dataDir, db);
  }
  return db.url;
}

async function dropTestDatabase(dataDir: string): Promise<void> {
  const db = databases.get(dataDir);
  if (!db) return;
  databases.delete(dataDir);
  await db.drop();
}

/**
 * With WSI_TEST_STORAGE_URL (s3://bucket, plus the WSI_S3_* variables of the server, e.g. a
 * test/support/s3-server.ts gateway), every data dir gets its own key prefix in that bucket, so a
 * server restarted on the same data dir finds its objects again; removeDir() deletes them.
 */
const testStorageUrl = process.env.WSI_TEST_STORAGE_URL?.trim() || undefined;
const storages = new Map<string, S3StorageConfig>();

/** True when this run's servers store into a bucket (the server-pg-s3 phase). */
export const onS3 = testStorageUrl !== undefined;

/**
 * For a test that reads the data folder's files themselves (the tus file store's part files,
 * stat of uploads/, free disk space): `test(name, localStorageOnly('why'), fn)` skips it on S3
 * with that reason and runs it unchanged on local storage.
 */
export function localStorageOnly(why: string): { skip: string | false } {
  return { skip: onS3 && `${why}: local storage only` };
}

/** The bucket storage of `dataDir` under WSI_TEST_STORAGE_URL; undefined: the data folder. */
export function testStorageFor(dataDir: string): S3StorageConfig | undefined {
  if (!testStorageUrl) return undefined;
  let c = storages.get(dataDir);
  if (!c) {
    const parsed = storageConfigFromEnv({ ...process.env, WSI_STORAGE_URL: `${testStorageUrl.replace(/\/+$/, '')}/t-${randomUUID()}` }, dataDir);
    if (parsed.kind !== 's3') throw new Error('WSI_TEST_STORAGE_URL must be an s3:// URL');
    c = parsed;
    storages.set(dataDir, c);
  }
  return c;
}

async function dropTestStorage(dataDir: string): Promise<void> {
  const c = storages.get(dataDir);
  if (!c) return;
  storages.delete(dataDir);
  const store = new S3ObjectStore({ ...c, prefix: '' });
  try {
    await store.deletePrefix(c.prefix);
  } finally {
    store.destroy();
  }
}

/** A real server on 127.0.0.1 with a fresh data dir (unless given), logging off. */
export async function startServer(over: Partial<ServerConfig> = {}): Promise<TestServer> {
  const dataDir = over.dataDir ?? (await mkdtemp(join(tmpdir(), 'wsi-server-test-')));
  const databaseUrl = over.databaseUrl ?? (await testDatabaseFor(dataDir));
  const storage = over.storage ?? testStorageFor(dataDir);
  const config: ServerConfig = {
    ...defaultConfig,
    dataDir,
    adminPassword,
    publicDir: join(dataDir, 'no-public-dir'),
    logLevel: false,
    port: 0,
    ...(databaseUrl !== undefined ? { databaseUrl } : {}),
    ...(storage !== undefined ? { storage } : {}),
    ...over,
  };
  const built = await buildApp(config);
  await built.app.listen({ host: '127.0.0.1', port: config.port });
  const addr = built.app.server.address();
  if (!addr || typeof addr === 'string') throw new Error('no address');
  return { url: `http://127.0.0.1:${addr.port}`, port: addr.port, built, config, stop: () => built.close() };
}

export async function removeDir(dir: string): Promise<void> {
  await dropTestDatabase(dir);
  await dropTestStorage(dir);
  await rm(dir, { recursive: true, force: true });
}

/** fetch with a cookie jar of one session cookie. */
export class Client {
  cookie = '';
  constructor(readonly base: string) {}

  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookie) headers.set('cookie', this.cookie);
    const res = await fetch(this.base + path, { ...init, headers });
    const set = res.headers.get('set-cookie');
    if (set) {
      const [pair] = set.split(';');
      this.cookie = pair.endsWith('=') ? '' : pair;
    }
    return res;
  }

  json(path: string, method: string, body?: unknown): Promise<Response> {
    if (body === undefined) return this.fetch(path, { method });
    return this.fetch(path, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  }

  async login(username: string, password: string): Promise<Response> {
    return this.json('/api/login', 'POST', { username, password });
  }
}

export async function adminClient(s: TestServer): Promise<Client> {
  const c = new Client(s.url);
  const r = await c.login('admin', adminPassword);
  if (r.status !== 200) throw new Error(`admin login failed: ${r.status}`);
  return c;
}

/** A lab (created if missing) with the given flags and a signed-in member with `role`. */
export async function memberOf(s: TestServer, labName: string, username: string, role: Role, features: ('bulk-import')[] = ['bulk-import']): Promise<{ client: Client; labId: number; userId: number }> {
  const { repos } = s.built;
  const lab = (await repos.labs.byName(labName)) ?? (await repos.labs.create(labName));
  await repos.labs.setFeatures(lab.id, features);
  const password = `pw-${username}-long-enough`;
  const user = (await repos.users.credentialsByUsername(username)) ?? await repos.users.create(username, username, await hashPassword(password));
  await repos.labs.setRole(lab.id, user.id, role);
  const client = new Client(s.url);
  const r = await client.login(username, password);
  if (r.status !== 200) throw new Error(`login failed for ${username}: ${r.status}`);
  const switched = await client.json('/api/me/lab', 'POST', { labId: lab.id });
  if (switched.status !== 200) throw new Error(`lab switch failed: ${switched.status}`);
  return { client, labId: lab.id, userId: user.id };
}

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

import type { PartMetadata } from '../../src/server/tus/metadata.ts';

/** A part's Upload-Metadata as sent on the wire (keptFields is the encoded string; see shared/kept-fields.ts; createCase is '1'). */
export type PartMeta = Omit<PartMetadata, 'keptFields' | 'createCase'> & { keptFields?: string; createCase?: '1' };

/**
 * Metadata for one part. Direct Upload by default: most tests send fixtures as they are (not
 * de-identified), which the server's verification of `deidentified` parts would rightly quarantine;
 * tests of that verification ask for mode 'deidentified'.
 */
export function partMeta(bytes: Uint8Array, over: Partial<PartMeta> = {}): PartMeta {
  return { filename: 'slide.svs', slideId: randomUUID(), part: 0, parts: 1, format: 'aperio-svs', sha256: sha256(bytes), mode: 'direct', batchId: randomUUID(), ...over };
}

export function encodeMetadata(md: Record<string, string | number>): string {
  return Object.entries(md)
    .map(([k, v]) => `${k} ${Buffer.from(String(v)).toString('base64')}`)
    .join(',');
}

/** tus creation (POST /files/); returns the response and the upload path when created. */
export async function tusCreate(c: Client, size: number, md: Record<string, string | number>): Promise<{ res: Response; path?: string }> {
  const res = await c.fetch('/files/', { method: 'POST', headers: { 'tus-resumable': '1.0.0', 'upload-length': String(size), 'upload-metadata': encodeMetadata(md) } });
  const loc = res.headers.get('location');
  return { res, ...(loc ? { path: new URL(loc, c.base).pathname } : {}) };
}

export function tusPatch(c: Client, path: string, offset: number, bytes: Uint8Array): Promise<Response> {
  return c.fetch(path, {
    method: 'PATCH',
    headers: { 'tus-resumable': '1.0.0', 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream' },
    // A Buffer view of the same memory: fetch's typing wants an ArrayBuffer-backed body.
    body: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
  });
}

export function tusHead(c: Client, path: string): Promise<Response> {
  return c.fetch(path, { method: 'HEAD', headers: { 'tus-resumable': '1.0.0' } });
}

/** Create and send a whole part in one PATCH. */
export async function tusUpload(c: Client, bytes: Uint8Array, md: PartMeta): Promise<{ path: string; finish: Response }> {
  const { res, path } = await tusCreate(c, bytes.length, { ...md });
  if (res.status !== 201 || !path) throw new Error(`create failed: ${res.status} ${await res.text()}`);
  const finish = await tusPatch(c, path, 0, bytes);
  return { path, finish };
}

/** Poll a scan until it leaves the transient states. */
export async function waitForScan(c: Client, id: number, timeoutMs = 20000): Promise<Record<string, unknown>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await c.fetch(`/api/scans/${id}`);
    const body = (await r.json()) as { scan: Record<string, unknown> };
    if (body.scan.status !== 'processing' && body.scan.status !== 'uploading') return body.scan;
    if (Date.now() > until) throw new Error(`scan ${id} still ${String(body.scan.status)}`);
    await new Promise((r2) => setTimeout(r2, 50));
  }
}

export { randomUUID };

/**
 * An upload row's status once it reaches `want` (or what it is after ~2 s): tus's POST_TERMINATE
 * event marks a cancelled upload after its answer, a database round trip later.
 */
export async function uploadStatusBecomes(built: BuiltApp, id: string, want: string): Promise<string | undefined> {
  let status: string | undefined;
  for (let i = 0; i < 100; i++) {
    status = (await built.repos.uploads.byIdForAccessCheck(id))?.status;
    if (status === want) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  return status;
}
