import { jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import type { CohortDefinition } from '../../research/cohort-definition.js';
import { id, timestamps } from './columns.js';
import { researchProjects } from './research-projects.js';
import { users } from './users.js';

/** A saved, named query over studies, nodules and labels (src/research/cohort-definition.ts). */
export const cohorts = pgTable(
  'cohorts',
  {
    id: id(),
    projectId: uuid()
      .notNull()
      .references(() => researchProjects.id, { onDelete: 'cascade' }),
    name: text().notNull(),
    definition: jsonb().$type<CohortDefinition>().notNull(),
    createdBy: uuid()
      .notNull()
      .references(() => users.id, { onDelete: 'restrict' }),
    ...timestamps,
  },
  (t) => [uniqueIndex('cohorts_project_name_key').on(t.projectId, t.name)],
);
