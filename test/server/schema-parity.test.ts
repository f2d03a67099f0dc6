/**
 * The two databases hold the same schema: every table of SQLite's current schema (migrations.ts)
 * exists on PostgreSQL (its baseline plus later migrations) with the same columns, the same
 * kind of value (integer, real, text) and the same NOT NULL, and no table or column on either side
 * is missing on the other. SQLite's FTS5 search tables and PostgreSQL's version table are each
 * side's own machinery. Uses WSI_TEST_DATABASE_URL's cluster when set, else starts a throwaway one
 * (skipped, saying so, where PostgreSQL is not installed).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { openDatabase, type Database } from '../../src/server/db/database.ts';
import { migrate } from '../../src/server/db/migrations.ts';
import { createTestDatabase, postgresBinDir, startPostgresCluster, type PostgresCluster } from '../support/postgres.ts';

type Columns = Record<string, string[]>;

const noPostgres = !process.env.WSI_TEST_DATABASE_URL && !postgresBinDir() ? 'PostgreSQL is not installed (initdb not found)' : false;
let cluster: PostgresCluster | undefined;
let testDb: { url: string; drop(): Promise<void> } | undefined;
let pg: Database | undefined;

before(async () => {
  if (noPostgres) return;
  let adminUrl = process.env.WSI_TEST_DATABASE_URL;
  if (!adminUrl) {
    cluster = await startPostgresCluster();
    adminUrl = cluster.url;
  }
  testDb = await createTestDatabase(adminUrl);
  pg = await openDatabase({ url: testDb.url, sqliteFile: '/nonexistent/unused.sqlite' });
});

after(async () => {
  await pg?.close();
  await testDb?.drop();
  cluster?.stop();
});

const kind = (declared: string): string => {
  const t = declared.toLowerCase();
  if (/int/.test(t)) return 'integer';
  if (/real|double|float/.test(t)) return 'real';
  if (/text|char|citext/.test(t)) return 'text';
  return t;
};

function sqliteColumns(): Columns {
  const db = new BetterSqlite3(':memory:');
  try {
    migrate(db);
    const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'scans_search%' ORDER BY name`).all() as { name: string }[]).map((r) => r.name);
    const out: Columns = {};
    for (const t of tables) {
      const cols = db.prepare(`SELECT name, type, "notnull" AS nn, pk FROM pragma_table_info(?)`).all(t) as { name: string; type: string; nn: number; pk: number }[];
      // A primary key column is never NULL on PostgreSQL; SQLite reports it by pk, not notnull.
      out[t] = cols.map((c) => `${c.name} ${kind(c.type)}${c.nn || c.pk ? ' not null' : ''}`).sort();
    }
    return out;
  } finally {
    db.close();
  }
}

async function postgresColumns(db: Database): Promise<Columns> {
  const rows = (
    await sql<{ table_name: string; column_name: string; data_type: string; udt_name: string; is_nullable: string }>`
      SELECT table_name, column_name, data_type, udt_name, is_nullable FROM information_schema.columns
      WHERE table_schema = 'public' AND table_name <> 'wsi_schema' ORDER BY table_name, column_name`.execute(db.kysely)
  ).rows;
  const out: Columns = {};
  for (const r of rows) {
    const type = r.data_type === 'USER-DEFINED' ? r.udt_name : r.data_type;
    (out[r.table_name] ??= []).push(`${r.column_name} ${kind(type)}${r.is_nullable === 'NO' ? ' not null' : ''}`);
  }
  for (const t of Object.keys(out)) out[t]!.sort();
  return out;
}

test('SQLite and PostgreSQL have the same tables, columns, kinds and NOT NULLs', { skip: noPostgres }, async () => {
  const lite = sqliteColumns();
  const post = await postgresColumns(pg!);
  assert.ok(Object.keys(lite).length >= 14, `tables: ${Object.keys(lite).join(', ')}`);
  assert.deepEqual(Object.keys(post).sort(), Object.keys(lite).sort(), 'the same tables');
  for (const t of Object.keys(lite)) assert.deepEqual(post[t], lite[t], `columns of ${t}`);
});

test('PostgreSQL: reopening a migrated database applies nothing and keeps the version', { skip: noPostgres }, async () => {
  const again = await openDatabase({ url: testDb!.url, sqliteFile: '/nonexistent/unused.sqlite' });
  try {
    const v = (await sql<{ version: number }>`SELECT version FROM wsi_schema`.execute(again.kysely)).rows;
    const { latestVersion } = await import('../../src/server/db/migrations.ts');
    assert.deepEqual(v, [{ version: latestVersion() }]);
  } finally {
    await again.close();
  }
});
