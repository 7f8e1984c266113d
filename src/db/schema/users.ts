import { pgEnum, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { id, timestamps } from './columns.js';
import { institutions } from './institutions.js';

export const userRole = pgEnum('user_role', ['admin', 'radiologist', 'programme', 'researcher']);

/** A person who signs in: radiologists review findings, programmes triage, researchers build cohorts. */
export const users = pgTable(
  'users',
  {
    id: id(),
    email: text().notNull(),
    displayName: text().notNull(),
    role: userRole().notNull(),
    /** Home institution; null for platform administrators. */
    institutionId: uuid().references(() => institutions.id, { onDelete: 'restrict' }),
    ...timestamps,
  },
  (t) => [uniqueIndex('users_email_key').on(t.email)],
);
