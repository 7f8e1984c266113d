import { index, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { id, timestamps } from './columns.js';
import { shares } from './shares.js';

/**
 * A viewer session opened from a share's link: an HttpOnly cookie (its SHA-256 alone is stored) that sees one
 * study as far as the share covers, for a few hours, and ends with the share (revoked or expired).
 */
export const shareSessions = pgTable(
  'share_sessions',
  {
    id: id(),
    shareId: uuid()
      .notNull()
      .references(() => shares.id, { onDelete: 'cascade' }),
    sessionSha256: text().notNull(),
    /** Sent by the page with every write (X-CSRF-Token): the cookie alone changes nothing. */
    csrfToken: text().notNull(),
    expiresAt: timestamp({ withTimezone: true }).notNull(),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('share_sessions_sha256_key').on(t.sessionSha256),
    index('share_sessions_share_idx').on(t.shareId),
  ],
);
