import { pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { id, timestamps } from './columns.js';
import { institutions } from './institutions.js';

/**
 * A DICOM application entity allowed to send to nodus (C-STORE): its calling AE title and the address (one
 * IP address, or a CIDR network) it calls from, bound to the institution its instances belong to.
 */
export const applicationEntities = pgTable(
  'application_entities',
  {
    id: id(),
    /** Calling AE title, as sent (trailing spaces removed). */
    aeTitle: text().notNull(),
    /** IPv4/IPv6 address or CIDR network, e.g. `10.1.2.3` or `10.1.0.0/16`. */
    address: text().notNull(),
    institutionId: uuid()
      .notNull()
      .references(() => institutions.id, { onDelete: 'restrict' }),
    description: text(),
    ...timestamps,
  },
  (t) => [uniqueIndex('application_entities_ae_address_key').on(t.aeTitle, t.address)],
);
