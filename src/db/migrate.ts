import { fileURLToPath } from 'node:url';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import type { DatabaseHandle } from './client.js';

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('./migrations', import.meta.url));

/** Arbitrary constant: every nodus process holds this advisory lock while migrating. */
const MIGRATION_LOCK_KEY = 7_320_451_001;

/**
 * Applies the committed SQL migrations. API and worker both call it at start-up; a session advisory lock
 * lets several processes start together without racing on the same migration.
 */
export async function runMigrations(handle: DatabaseHandle): Promise<void> {
  const lockConnection = await handle.sql.reserve();
  try {
    await lockConnection`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    await migrate(handle.db, { migrationsFolder: MIGRATIONS_FOLDER });
  } finally {
    await lockConnection`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
    lockConnection.release();
  }
}
