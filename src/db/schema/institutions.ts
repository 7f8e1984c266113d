import { pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { id, timestamps } from './columns.js';

/** A hospital or screening programme that sends images; the unit of data ownership and sharing. */
export const institutions = pgTable(
  'institutions',
  {
    id: id(),
    /** Stable short code, e.g. derived from InstitutionName (0008,0080) or assigned by an administrator. */
    code: text().notNull(),
    name: text().notNull(),
    ...timestamps,
  },
  (t) => [uniqueIndex('institutions_code_key').on(t.code)],
);
