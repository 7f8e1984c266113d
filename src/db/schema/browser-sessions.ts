import { index, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { apiTokens } from './api-tokens.js';
import { id, timestamps } from './columns.js';

/**
 * A signed-in browser (the workspace, OHIF from nodus): opened with a bearer token, held as an HttpOnly
 * cookie whose SHA-256 alone is stored. It lasts while its token is valid and until it expires or the user
 * signs out (`endedAt`); revoking the token ends it too.
 */
export const browserSessions = pgTable(
  'browser_sessions',
  {
    id: id(),
    tokenId: uuid()
      .notNull()
      .references(() => apiTokens.id, { onDelete: 'cascade' }),
    /** Hex SHA-256 of the cookie's 256-bit random value. */
    sessionSha256: text().notNull(),
    /** Sent by the page with every write (X-CSRF-Token): a cookie alone never changes anything. */
    csrfToken: text().notNull(),
    expiresAt: timestamp({ withTimezone: true }).notNull(),
    endedAt: timestamp({ withTimezone: true }),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('browser_sessions_sha256_key').on(t.sessionSha256),
    index('browser_sessions_token_idx').on(t.tokenId),
  ],
);
