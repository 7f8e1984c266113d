import { pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { id, timestamps } from './columns.js';

/**
 * A research project: the scope of label vocabularies and cohorts, and of de-identification (its name keys the
 * pseudonyms and UIDs of everything exported from it, see src/dicom/deidentify.ts).
 */
export const researchProjects = pgTable(
  'research_projects',
  {
    id: id(),
    /** Short unique name, e.g. `nlst-followup`; part of the de-identification key. */
    name: text().notNull(),
    description: text().notNull().default(''),
    ...timestamps,
  },
  (t) => [uniqueIndex('research_projects_name_key').on(t.name)],
);
