import { timestamp, uuid } from 'drizzle-orm/pg-core';

/** Surrogate key shared by every table. */
export const id = () => uuid().primaryKey().defaultRandom();

/** Row bookkeeping shared by every table (UTC instants). */
export const timestamps = {
  createdAt: timestamp({ withTimezone: true }).defaultNow().notNull(),
  updatedAt: timestamp({ withTimezone: true })
    .defaultNow()
    .notNull()
    .$onUpdate(() => new Date()),
};
