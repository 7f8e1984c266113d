import { integer, pgTable, uuid } from 'drizzle-orm/pg-core';
import { timestamps } from './columns.js';
import { institutions } from './institutions.js';

/**
 * A regional consortium (医联体): each member (a community centre) has a hub (its hospital) to which every
 * study it screens is offered for a second read, due within `secondReadHours`.
 */
export const consortiumMembers = pgTable('consortium_members', {
  memberInstitutionId: uuid()
    .primaryKey()
    .references(() => institutions.id, { onDelete: 'cascade' }),
  hubInstitutionId: uuid()
    .notNull()
    .references(() => institutions.id, { onDelete: 'cascade' }),
  secondReadHours: integer().notNull(),
  /** How long the offered share lasts. */
  shareHours: integer().notNull(),
  ...timestamps,
});
