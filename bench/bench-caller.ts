import { upsertApplicationEntity } from '../src/db/repositories/application-entities.js';
import { knownCallersIn } from '../src/ingest/dimse/known-callers.js';
import type { Platform } from '../src/main/platform.js';

/** storescu's default calling AE title from this machine, configured as a sender of one institution. */
export async function benchCaller(platform: Platform) {
  await upsertApplicationEntity(platform.database.db, {
    aeTitle: 'STORESCU',
    address: '127.0.0.1',
    institutionCode: 'BENCH-SITE',
  });
  return knownCallersIn(platform.database.db);
}
