import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import type { SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import postgres from 'postgres';
import * as schema from './schema/index.js';

export type Database = PostgresJsDatabase<typeof schema>;

/** The database or an open transaction on it: what repository functions that compose take. */
export type Queryable = Database | Parameters<Parameters<Database['transaction']>[0]>[0];

export interface DatabaseHandle {
  db: Database;
  /** The underlying postgres.js pool, for raw SQL and shutdown. */
  sql: postgres.Sql;
  close: () => Promise<void>;
}

export interface DatabaseOptions {
  /** Pool size; API and worker share one pool per process. */
  max?: number;
}

/** Opens a postgres.js pool and a drizzle handle on it. Nothing connects until the first query. */
export function openDatabase(url: string, options: DatabaseOptions = {}): DatabaseHandle {
  const sql = postgres(url, {
    max: options.max ?? 10,
    onnotice: () => {},
    connect_timeout: 10,
    connection: { application_name: 'nodus' },
  });
  const db = drizzle(sql, { schema, casing: 'snake_case' });
  return { db, sql, close: () => sql.end({ timeout: 5 }) };
}

/** Describes a database URL for messages without its password. */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable DATABASE_URL>';
  }
}

const dialect = new PgDialect({ casing: 'snake_case' });

/**
 * Runs a raw drizzle `sql` query as a named prepared statement (postgres.js caches it per connection by its
 * text), so a hot query is planned once per connection rather than on every call as drizzle's unnamed
 * statements are. Rows come back with the column names the query gives them.
 */
export async function executePrepared<T extends Record<string, unknown>>(
  db: Database,
  query: SQL,
): Promise<T[]> {
  const { sql: text, params } = dialect.sqlToQuery(query);
  // drizzle(postgres.js) keeps its client as $client; the Database type leaves it out so transactions fit too.
  const client = (db as Database & { $client: postgres.Sql }).$client;
  return client.unsafe<T[]>(text, params as postgres.ParameterOrJSON<never>[], { prepare: true });
}
