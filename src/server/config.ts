import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { SlideError } from '../shared/errors.ts';
import { defaultSignInThrottle, type SignInThrottlePolicy } from './auth/rate-limit.ts';
import { storageConfigFromEnv, type StorageConfig } from './storage/storage-config.ts';

/** Everything the server reads from the environment, parsed once and validated. */
export interface ServerConfig {
  port: number;
  host: string;
  dataDir: string;
  adminUser: string;
  /** Only used when the first admin is created; otherwise a random password is generated and printed. */
  adminPassword?: string;
  maxUploadBytes: number;
  /**
   * What a Direct Upload zip may expand to (all entries together): a fixed 64 GiB by default, not
   * tied to maxUploadBytes or free disk (zips are also refused past 200:1 expansion; free disk is
   * an extra guard at extraction).
   */
  maxExtractBytes: number;
  /** The built PWA. Served (with SPA fallback) only when it exists. */
  publicDir: string;
  uploadExpiryHours: number;
  /**
   * Storage quota of a lab that has none of its own (bytes; 0 = no limit): stored scans plus
   * uploads in progress. A lab admin may set a lab's own quota through the API.
   */
  labQuotaBytes: number;
  sessionHours: number;
  /** 'auto' sets Secure when the request arrived over https (as Fastify sees it, see trustProxy). */
  cookieSecure: 'auto' | boolean;
  /**
   * Addresses/CIDRs of reverse proxies whose X-Forwarded-* headers are believed (needed for 'auto'
   * Secure cookies behind TLS termination, and for per-client sign-in limits behind a proxy). Empty:
   * trust none. Never "everyone": then any client could forge the address sign-in limits key on.
   */
  trustProxy: readonly string[];
  /** Sign-in throttling; not read from the environment (tests shorten it). */
  signInThrottle: SignInThrottlePolicy;
  /**
   * WSI_METRICS_TOKEN: when set, GET /metrics needs `Authorization: Bearer <token>`; unset, only a
   * scraper on this machine (loopback, not relayed by a proxy) may read it.
   */
  metricsToken?: string;
  /**
   * WSI_DATABASE_URL: a postgres:// (or postgresql://) URL selects PostgreSQL; absent, the SQLite
   * file under the data dir (the default). Holds a password: never logged or echoed.
   */
  databaseUrl?: string;
  /**
   * Where uploads and scans are stored: WSI_STORAGE_URL=s3://bucket[/prefix] (+ WSI_S3_*) selects an
   * S3-compatible bucket; absent, the data directory (the default). The SQLite file and temp
   * files always stay in the data directory.
   */
  storage?: StorageConfig;
  /** Fastify logger level; false disables logging (the test default). */
  logLevel: false | 'fatal' | 'error' | 'warn' | 'info' | 'debug';
}

const GIB = 1024 * 1024 * 1024;

export const defaultConfig: Readonly<Omit<ServerConfig, 'adminPassword'>> = {
  port: 8080,
  host: '127.0.0.1',
  dataDir: './data',
  adminUser: 'admin',
  maxUploadBytes: 64 * GIB,
  maxExtractBytes: 64 * GIB,
  publicDir: 'dist/public',
  uploadExpiryHours: 7 * 24,
  labQuotaBytes: 1024 * GIB,
  sessionHours: 12,
  cookieSecure: 'auto',
  trustProxy: [],
  signInThrottle: defaultSignInThrottle,
  logLevel: 'info',
};

function bad(name: string, why: string): SlideError {
  return new SlideError('BAD_REQUEST', `environment variable ${name} ${why}`);
}

function intVar(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw bad(name, 'must be a whole number');
  const n = Number(raw.trim());
  if (!Number.isSafeInteger(n) || n < min || n > max) throw bad(name, `must be between ${min} and ${max}`);
  return n;
}

function boolVar(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw bad(name, 'must be true or false');
}

/** proxy-addr's names for address ranges, accepted by Fastify's trustProxy as they are. */
const proxyRangeNames = ['loopback', 'linklocal', 'uniquelocal'];

/** WSI_TRUST_PROXY: false (default) or a comma-separated list of addresses, CIDRs and range names. */
function trustProxyVar(env: NodeJS.ProcessEnv): string[] {
  const raw = env.WSI_TRUST_PROXY?.trim().toLowerCase();
  if (raw === undefined || raw === '' || ['0', 'false', 'no', 'off'].includes(raw)) return [];
  if (['1', 'true', 'yes', 'on'].includes(raw)) {
    throw bad('WSI_TRUST_PROXY', 'must list the reverse proxy addresses (e.g. 127.0.0.1 or 10.0.0.0/24), not true: trusting every sender lets any client forge its address');
  }
  return raw.split(/[\s,]+/).filter(Boolean).map((item) => {
    if (proxyRangeNames.includes(item)) return item;
    const [addr, prefix, extra] = item.split('/');
    const family = isIP(addr ?? '');
    const bits = family === 4 ? 32 : 128;
    const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits);
    if (family === 0 || !prefixOk || extra !== undefined) throw bad('WSI_TRUST_PROXY', `has "${item}", which is not an IP address, a CIDR range or one of ${proxyRangeNames.join(', ')}`);
    return item;
  });
}

/** Read the configuration from environment variables (README lists them). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const adminUser = env.WSI_ADMIN_USER?.trim() || defaultConfig.adminUser;
  if (!/^[A-Za-z0-9._@-]{1,64}$/.test(adminUser)) throw bad('WSI_ADMIN_USER', 'may contain only letters, digits and . _ @ -');
  const adminPassword = env.WSI_ADMIN_PASSWORD || undefined;
  if (adminPassword !== undefined && adminPassword.length < 8) throw bad('WSI_ADMIN_PASSWORD', 'must be at least 8 characters');
  const secureRaw = env.WSI_COOKIE_SECURE?.trim().toLowerCase();
  const cookieSecure = secureRaw === undefined || secureRaw === '' || secureRaw === 'auto' ? 'auto' : boolVar(env, 'WSI_COOKIE_SECURE', false);
  const levels = ['fatal', 'error', 'warn', 'info', 'debug'] as const;
  const rawLevel = env.WSI_LOG_LEVEL?.trim().toLowerCase();
  let logLevel: ServerConfig['logLevel'] = defaultConfig.logLevel;
  if (rawLevel === 'off' || rawLevel === 'false') logLevel = false;
  else if (rawLevel) {
    const l = levels.find((x) => x === rawLevel);
    if (!l) throw bad('WSI_LOG_LEVEL', `must be one of off, ${levels.join(', ')}`);
    logLevel = l;
  }
  const metricsToken = env.WSI_METRICS_TOKEN?.trim() || undefined;
  if (metricsToken !== undefined && !/^[\x21-\x7e]{16,256}$/.test(metricsToken)) throw bad('WSI_METRICS_TOKEN', 'must be 16 to 256 printable characters without spaces');
  const databaseUrl = env.WSI_DATABASE_URL?.trim() || undefined;
  // The value is not repeated in the message: it may hold a password.
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\/[^\s]+$/i.test(databaseUrl)) throw bad('WSI_DATABASE_URL', 'must be a postgres:// or postgresql:// URL');
  const maxUploadBytes = intVar(env, 'WSI_MAX_UPLOAD_BYTES', defaultConfig.maxUploadBytes, 1, Number.MAX_SAFE_INTEGER);
  const dataDir = resolve(env.WSI_DATA_DIR?.trim() || defaultConfig.dataDir);
  const storage = storageConfigFromEnv(env, dataDir);
  return {
    port: intVar(env, 'WSI_PORT', defaultConfig.port, 0, 65535),
    host: env.WSI_HOST?.trim() || defaultConfig.host,
    dataDir,
    ...(storage.kind === 's3' ? { storage } : {}),
    adminUser,
    ...(adminPassword !== undefined ? { adminPassword } : {}),
    ...(metricsToken !== undefined ? { metricsToken } : {}),
    maxUploadBytes,
    maxExtractBytes: intVar(env, 'WSI_MAX_EXTRACT_BYTES', defaultConfig.maxExtractBytes, 1, Number.MAX_SAFE_INTEGER),
    publicDir: resolve(env.WSI_PUBLIC_DIR?.trim() || defaultConfig.publicDir),
    uploadExpiryHours: intVar(env, 'WSI_UPLOAD_EXPIRY_HOURS', defaultConfig.uploadExpiryHours, 1, 24 * 365),
    labQuotaBytes: intVar(env, 'WSI_LAB_QUOTA_BYTES', defaultConfig.labQuotaBytes, 0, Number.MAX_SAFE_INTEGER),
    sessionHours: intVar(env, 'WSI_SESSION_HOURS', defaultConfig.sessionHours, 1, 24 * 90),
    cookieSecure,
    trustProxy: trustProxyVar(env),
    signInThrottle: defaultConfig.signInThrottle,
    logLevel,
    ...(databaseUrl !== undefined ? { databaseUrl } : {}),
  };
}
