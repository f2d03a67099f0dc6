import { sql, type Kysely, type RawBuilder } from 'kysely';
import { nowText, type Dialect } from '../database.ts';
import type { Schema } from '../schema.ts';

/** What every repo queries through: the database (or the transaction it is bound to) and its dialect. */
export interface Ctx {
  readonly db: Kysely<Schema>;
  readonly dialect: Dialect;
}

/**
 * Run `fn` in a transaction: the caller's when the repo is already bound to one (Repos.transaction),
 * else a new one. Nested calls thus join the outer transaction instead of deadlocking on SQLite's
 * single connection.
 */
export function inTransaction<T>(ctx: Ctx, fn: (tx: Ctx) => Promise<T>): Promise<T> {
  if (ctx.db.isTransaction) return fn(ctx);
  return ctx.db.transaction().execute((tx) => fn({ db: tx, dialect: ctx.dialect }));
}

/** The current time in the timestamp columns' TEXT format. */
export const now = (ctx: Ctx): RawBuilder<string> => nowText(ctx.dialect);

/**
 * LIKE with SQLite's semantics on both: ASCII case-insensitive (PostgreSQL: ILIKE, in a database
 * whose LC_CTYPE is C), `\` escaping the pattern's wildcards.
 */
export function likeSql(ctx: Ctx, column: RawBuilder<unknown>, pattern: string): RawBuilder<boolean> {
  return ctx.dialect === 'postgres' ? sql<boolean>`${column} ILIKE ${pattern} ESCAPE '\\'` : sql<boolean>`${column} LIKE ${pattern} ESCAPE '\\'`;
}

/** Rows a write changed (Kysely reports bigint). */
export const changed = (r: { numUpdatedRows?: bigint; numDeletedRows?: bigint }): number => Number(r.numUpdatedRows ?? r.numDeletedRows ?? 0n);
