import { pgEnum, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { USER_ROLES } from '../../shared/roles.js';
import { id, timestamps } from './columns.js';

export const userRole = pgEnum('user_role', USER_ROLES);

/**
 * A person or system that calls the API with bearer tokens ({@link apiTokens}). What a role may do is in
 * src/shared/roles.ts; which institutions' studies a user sees is in user_institutions.
 */
export const users = pgTable(
  'users',
  {
    id: id(),
    email: text().notNull(),
    displayName: text().notNull(),
    role: userRole().notNull(),
    /** A disabled user's tokens are refused. */
    disabledAt: timestamp({ withTimezone: true }),
    ...timestamps,
  },
  (t) => [uniqueIndex('users_email_key').on(t.email)],
);
