import { bigserial, index, pgEnum, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { SHARE_OPENING_OUTCOMES } from '../../sharing/share-scope.js';
import { shares } from './shares.js';

export const shareOpeningOutcome = pgEnum('share_opening_outcome', SHARE_OPENING_OUTCOMES);

/** Every time a share's link was followed or exchanged for a viewer session: when, from where, and how it went. */
export const shareOpenings = pgTable(
  'share_openings',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    shareId: uuid()
      .notNull()
      .references(() => shares.id, { onDelete: 'cascade' }),
    occurredAt: timestamp({ withTimezone: true }).defaultNow().notNull(),
    outcome: shareOpeningOutcome().notNull(),
    /** The client's address (the socket's) and its User-Agent. */
    address: text(),
    userAgent: text(),
  },
  (t) => [index('share_openings_share_idx').on(t.shareId, t.occurredAt)],
);
