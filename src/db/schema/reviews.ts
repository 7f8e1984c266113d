import { index, jsonb, pgEnum, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { id, timestamps } from './columns.js';
import { findings } from './findings.js';
import { users } from './users.js';

export const reviewDecision = pgEnum('review_decision', ['confirmed', 'rejected', 'corrected']);

/** A radiologist's decision on an AI finding; corrections carry the corrected measurements. */
export const reviews = pgTable(
  'reviews',
  {
    id: id(),
    findingId: uuid()
      .notNull()
      .references(() => findings.id, { onDelete: 'cascade' }),
    reviewerId: uuid()
      .notNull()
      .references(() => users.id, { onDelete: 'restrict' }),
    decision: reviewDecision().notNull(),
    correction: jsonb().$type<Record<string, unknown>>(),
    comment: text(),
    ...timestamps,
  },
  (t) => [index('reviews_finding_idx').on(t.findingId)],
);
