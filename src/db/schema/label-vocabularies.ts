import { jsonb, pgEnum, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { LABEL_TARGETS, VOCABULARY_KINDS } from '../../shared/research.js';
import { id, timestamps } from './columns.js';
import { researchProjects } from './research-projects.js';

export const labelTarget = pgEnum('label_target', LABEL_TARGETS);
export const vocabularyKind = pgEnum('vocabulary_kind', VOCABULARY_KINDS);

/** One allowed value of a category vocabulary. */
export interface VocabularyCode {
  code: string;
  meaning: string;
}

/**
 * A project's named label vocabulary, e.g. `malignancy` (category: malignant, benign) on nodules or
 * `diameter-mm` (number, mm) on nodules. Labels are checked against it when they are written.
 */
export const labelVocabularies = pgTable(
  'label_vocabularies',
  {
    id: id(),
    projectId: uuid()
      .notNull()
      .references(() => researchProjects.id, { onDelete: 'cascade' }),
    name: text().notNull(),
    target: labelTarget().notNull(),
    kind: vocabularyKind().notNull(),
    /** The allowed codes (category vocabularies); empty for numbers. */
    codes: jsonb().$type<VocabularyCode[]>().notNull().default([]),
    /** Unit of a number vocabulary (UCUM, e.g. `mm`); null for categories. */
    unit: text(),
    ...timestamps,
  },
  (t) => [uniqueIndex('label_vocabularies_project_name_key').on(t.projectId, t.name)],
);
