import { pgTable, primaryKey, uuid } from 'drizzle-orm/pg-core';
import { institutions } from './institutions.js';
import { users } from './users.js';

/** The institutions whose studies a user may see (a radiologist may read for several hospitals). */
export const userInstitutions = pgTable(
  'user_institutions',
  {
    userId: uuid()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    institutionId: uuid()
      .notNull()
      .references(() => institutions.id, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.userId, t.institutionId] })],
);
