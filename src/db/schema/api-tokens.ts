import { index, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { id, timestamps } from './columns.js';
import { users } from './users.js';

/**
 * A bearer token of a user. Only the SHA-256 of the token is stored: a leaked table grants nothing.
 * Tokens are 256-bit random strings, so an unsalted hash is as strong as a password hash would be.
 */
export const apiTokens = pgTable(
  'api_tokens',
  {
    id: id(),
    userId: uuid()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** Hex SHA-256 of the token string. */
    tokenSha256: text().notNull(),
    /** What the token is for, e.g. "worklist laptop" or "seeded from NODUS_ADMIN_TOKEN". */
    label: text().notNull(),
    expiresAt: timestamp({ withTimezone: true }),
    revokedAt: timestamp({ withTimezone: true }),
    ...timestamps,
  },
  (t) => [uniqueIndex('api_tokens_sha256_key').on(t.tokenSha256), index('api_tokens_user_idx').on(t.userId)],
);
