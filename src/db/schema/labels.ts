import {
  bigserial,
  doublePrecision,
  index,
  pgEnum,
  pgTable,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';
import { LABEL_EVIDENCE, LABEL_SOURCES } from '../../shared/research.js';
import { labelVocabularies } from './label-vocabularies.js';
import { reviewedNodules } from './reviewed-nodules.js';
import { studies } from './studies.js';
import { users } from './users.js';

export const labelSource = pgEnum('label_source', LABEL_SOURCES);
export const labelEvidence = pgEnum('label_evidence', LABEL_EVIDENCE);

/**
 * A label on a study or one of its nodules, with its provenance: which vocabulary, the value, who or what
 * produced it (a model and version, a reader, an adjudicated consensus), on which evidence and when.
 * Append-only: a corrected label is a newer row; every reader's label stays (reader agreement needs them all).
 */
export const labels = pgTable(
  'labels',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    vocabularyId: uuid()
      .notNull()
      .references(() => labelVocabularies.id, { onDelete: 'restrict' }),
    studyId: uuid()
      .notNull()
      .references(() => studies.id, { onDelete: 'cascade' }),
    /** The nodule labelled (vocabularies whose target is `nodule`); null for study labels. */
    noduleId: uuid().references(() => reviewedNodules.id, { onDelete: 'cascade' }),
    /** A category vocabulary's code. */
    valueCode: text(),
    /** A number vocabulary's value, in the vocabulary's unit. */
    valueNumber: doublePrecision(),
    source: labelSource().notNull(),
    /** `model` labels: the model as `id@version`. */
    sourceModel: text(),
    /** `reader` and `consensus` labels: the user who gave it. */
    sourceUserId: uuid().references(() => users.id, { onDelete: 'restrict' }),
    evidence: labelEvidence().notNull(),
    note: text(),
    createdAt: timestamp({ withTimezone: true }).defaultNow().notNull(),
  },
  (t) => [
    index('labels_study_idx').on(t.studyId),
    index('labels_vocabulary_idx').on(t.vocabularyId, t.valueCode),
  ],
);
