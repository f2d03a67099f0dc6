import BetterSqlite3 from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Kysely, PostgresDialect, SqliteDialect, sql, type RawBuilder } from 'kysely';
import pg from 'pg';
import { migrate, migratePostgres } from './migrations.ts';
import type { Schema } from './schema.ts';

export type Dialect = 'sqlite' | 'postgres';

/** The server's one database, whichever kind it is. Repos (repos/index.ts) query it through `kysely`. */
export interface Database {
  readonly dialect: Dialect;
  readonly kysely: Kysely<Schema>;
  /** Resolves when the database answers a query (readiness checks). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const isPostgresUrl = (url: string): boolean => /^postgres(ql)?:\/\//i.test(url);

/**
 * `url` postgres://… opens PostgreSQL (a connection pool), anything else the SQLite file; either is
 * migrated to the current schema before it is returned.
 */
export async function openDatabase(o: { url?: string; sqliteFile: string }): Promise<Database> {
  if (o.url !== undefined && isPostgresUrl(o.url)) return openPostgres(o.url);
  return openSqlite(o.sqliteFile);
}

/** Open (creating if needed) the SQLite file in WAL mode and bring its schema up to date. */
export function openSqlite(file: string): Database {
  return sqliteDatabase(openSqliteHandle(file));
}

/** The better-sqlite3 handle openSqlite wraps: settings applied, migrated (migration tests read it directly). */
export function openSqliteHandle(file: string): BetterSqlite3.Database {
  mkdirSync(dirname(file), { recursive: true });
  const handle = new BetterSqlite3(file);
  handle.pragma('journal_mode = WAL');
  // NORMAL is durable across application crashes in WAL mode; only an OS crash can lose the last commits.
  handle.pragma('synchronous = NORMAL');
  handle.pragma('foreign_keys = ON');
  handle.pragma('busy_timeout = 5000');
  migrate(handle);
  return handle;
}

/**
 * A Database over an open (and migrated) better-sqlite3 handle; tests use it on in-memory
 * databases. Kysely's SQLite driver has one connection: everything is serialised, a transaction
 * holds it until it ends (so nothing inside a transaction may wait for a query outside it).
 */
export function sqliteDatabase(handle: BetterSqlite3.Database): Database {
  const kysely = new Kysely<Schema>({ dialect: new SqliteDialect({ database: handle }) });
  return {
    dialect: 'sqlite',
    kysely,
    ping: async () => void (await sql`SELECT 1`.execute(kysely)),
    close: () => kysely.destroy(),
  };
}

// int8 (count(*), BIGINT columns) and numeric (sum of BIGINT) arrive as strings by default: our
// values (ids, byte counts, ms timestamps) stay far below 2^53, so they are read as numbers.
const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === 20 || oid === 1700) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  }) as typeof pg.types.getTypeParser,
};

async function openPostgres(url: string): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, types: pgTypes, max: 10 });
  // An idle client's error (the server restarted) must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  const kysely = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
  try {
    await migratePostgres(kysely);
  } catch (e) {
    await kysely.destroy();
    throw e;
  }
  return {
    dialect: 'postgres',
    kysely,
    ping: async () => void (await sql`SELECT 1`.execute(kysely)),
    close: () => kysely.destroy(),
  };
}

/** A unique or primary-key constraint refused the write (SQLite or PostgreSQL). */
export function isUniqueViolation(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}

/** The current time as the TEXT every timestamp column holds: 'YYYY-MM-DDTHH:MM:SS.sssZ', UTC. */
export function nowText(dialect: Dialect): RawBuilder<string> {
  return dialect === 'postgres' ? sql<string>`wsi_now()` : sql<string>`strftime('%Y-%m-%dT%H:%M:%fZ','now')`;
}

/** Redacted for messages and logs: the URL without its password. */
export function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparseable)';
  }
}
