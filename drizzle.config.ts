import { defineConfig } from 'drizzle-kit';

/** drizzle-kit generates SQL migrations from the schema; `nodus migrate` (and every start-up) applies them. */
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema/index.ts',
  out: './src/db/migrations',
  casing: 'snake_case',
  dbCredentials: { url: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
});
