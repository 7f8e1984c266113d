import { index, pgEnum, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { SECOND_READ_OPINIONS } from '../../sharing/share-scope.js';
import { id, timestamps } from './columns.js';
import { institutions } from './institutions.js';
import { shares } from './shares.js';
import { studies } from './studies.js';
import { lungRadsCategory } from './study-reviews.js';
import { users } from './users.js';

export const secondReadOpinion = pgEnum('second_read_opinion', SECOND_READ_OPINIONS);

/** A partner institution's radiologist's read of a shared study: beside the first read, never replacing it. */
export const secondReads = pgTable(
  'second_reads',
  {
    id: id(),
    studyId: uuid()
      .notNull()
      .references(() => studies.id, { onDelete: 'cascade' }),
    shareId: uuid()
      .notNull()
      .references(() => shares.id, { onDelete: 'cascade' }),
    readerUserId: uuid()
      .notNull()
      .references(() => users.id, { onDelete: 'restrict' }),
    institutionId: uuid()
      .notNull()
      .references(() => institutions.id, { onDelete: 'restrict' }),
    /** Whether the second reader agrees with the first read's category. */
    opinion: secondReadOpinion().notNull(),
    category: lungRadsCategory().notNull(),
    comment: text(),
    ...timestamps,
  },
  (t) => [index('second_reads_study_idx').on(t.studyId, t.createdAt)],
);
