import {
  bigserial,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';
import { REVIEW_ACTIONS } from '../../shared/review.js';
import { reviewedNodules } from './reviewed-nodules.js';
import { studies } from './studies.js';
import { users } from './users.js';

export const reviewAction = pgEnum('review_action', REVIEW_ACTIONS);

/** Append-only log of every review action: who did what to which nodule or study, and when. Never updated. */
export const reviewActions = pgTable(
  'review_actions',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    occurredAt: timestamp({ withTimezone: true }).defaultNow().notNull(),
    studyId: uuid()
      .notNull()
      .references(() => studies.id, { onDelete: 'cascade' }),
    /** The nodule acted on; null for study-level actions (sign-off). */
    noduleId: uuid().references(() => reviewedNodules.id, { onDelete: 'cascade' }),
    actorUserId: uuid()
      .notNull()
      .references(() => users.id, { onDelete: 'restrict' }),
    action: reviewAction().notNull(),
    /** The study's version this action produced (the version it acted on + 1). */
    studyVersion: integer().notNull(),
    /** The request's body as accepted (reason code, new measurements, final category, comment). */
    details: jsonb().$type<Record<string, unknown>>().notNull().default({}),
    requestId: text(),
  },
  (t) => [index('review_actions_study_idx').on(t.studyId, t.id)],
);
