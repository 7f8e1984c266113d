import { date, index, integer, jsonb, pgEnum, pgTable, smallint, timestamp, uuid } from 'drizzle-orm/pg-core';
import { LUNG_RADS_CATEGORIES } from '../../shared/lung-rads-category.js';
import { STUDY_REVIEW_STATUSES, type StudyReviewStatus } from '../../shared/review.js';
import { timestamps } from './columns.js';
import { institutions } from './institutions.js';
import { studies } from './studies.js';
import { users } from './users.js';

export const lungRadsCategory = pgEnum('lung_rads_category', LUNG_RADS_CATEGORIES);

export type { StudyReviewStatus };
export const studyReviewStatus = pgEnum('study_review_status', STUDY_REVIEW_STATUSES);

/**
 * The worklist row and review state of one study: its Lung-RADS result (AI first, then as reviewed) and the
 * version that makes concurrent review actions conflict (optimistic locking).
 */
export const studyReviews = pgTable(
  'study_reviews',
  {
    studyId: uuid()
      .primaryKey()
      .references(() => studies.id, { onDelete: 'cascade' }),
    /** Owner of the study (the patient's institution), copied here so the worklist filters on one table. */
    institutionId: uuid()
      .notNull()
      .references(() => institutions.id, { onDelete: 'restrict' }),
    status: studyReviewStatus().notNull().default('awaiting-ai'),
    /** Category from the AI findings alone. */
    aiCategory: lungRadsCategory(),
    /** Category of the study as it stands: the AI's, then recomputed after each review action. */
    category: lungRadsCategory(),
    /** {@link TRIAGE_RANK} of `category` (0 = none yet): the worklist's first sort key, descending. */
    triageRank: smallint().notNull().default(0),
    /** The current Lung-RADS result: category, modifiers, management, follow-up and the rules that fired. */
    lungRads: jsonb().$type<Record<string, unknown>>(),
    /** Category given at sign-off by the radiologist. */
    finalCategory: lungRadsCategory(),
    signedOffBy: uuid().references(() => users.id, { onDelete: 'restrict' }),
    signedOffAt: timestamp({ withTimezone: true }),
    /** When the study's first instance arrived: the worklist's second sort key (oldest first). */
    waitingSince: timestamp({ withTimezone: true }).notNull(),
    /** StudyDate, copied for the date filter. */
    studyDate: date(),
    /** Nodules of the study not rejected, kept with every change (the worklist shows it without counting). */
    noduleCount: smallint().notNull().default(0),
    /** Incremented by every review action; a client acting on an older version gets 409. */
    version: integer().notNull().default(0),
    ...timestamps,
  },
  // The worklist walks these in order (triage rank, waiting time, id). The trailing columns let it test the
  // status, category and date filters on the index entries alone, without visiting the table.
  (t) => [
    index('study_reviews_triage_idx').on(
      t.triageRank.desc(),
      t.waitingSince,
      t.studyId,
      t.status,
      t.category,
      t.studyDate,
    ),
    index('study_reviews_institution_triage_idx').on(
      t.institutionId,
      t.triageRank.desc(),
      t.waitingSince,
      t.studyId,
      t.status,
      t.category,
      t.studyDate,
    ),
  ],
);

export type StudyReviewRow = typeof studyReviews.$inferSelect;
