import { sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
  boolean,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { SECOND_FACTORS, SHARE_AUDIENCES, type ShareScope } from '../../sharing/share-scope.js';
import { id, timestamps } from './columns.js';
import { institutions } from './institutions.js';
import { studies } from './studies.js';
import { users } from './users.js';

export const shareAudience = pgEnum('share_audience', SHARE_AUDIENCES);
export const shareSecondFactor = pgEnum('share_second_factor', SECOND_FACTORS);

/**
 * A capability to one study (the Kheops model): a patient's digital film, a link the patient passed on to a
 * doctor (`parentShareId`), or a partner institution's second read. Revocable, time-bounded, scoped; the
 * link's secret (256 random bits) is never stored, only its SHA-256.
 */
export const shares = pgTable(
  'shares',
  {
    id: id(),
    studyId: uuid()
      .notNull()
      .references(() => studies.id, { onDelete: 'cascade' }),
    audience: shareAudience().notNull(),
    /** The institution whose radiologists read the study (audience `institution`). */
    partnerInstitutionId: uuid().references(() => institutions.id, { onDelete: 'cascade' }),
    /** The share this one was passed on from (a patient's link to a doctor): never wider, never longer. */
    parentShareId: uuid().references((): AnyPgColumn => shares.id, { onDelete: 'cascade' }),
    /** Hex SHA-256 of the link's secret. */
    secretSha256: text().notNull(),
    /** What the share covers: null for the whole study, else series or key images. */
    scope: jsonb().$type<ShareScope>(),
    allowDownload: boolean().notNull().default(false),
    secondFactor: shareSecondFactor().notNull().default('none'),
    /** scrypt of the PIN (`salt:hash`, hex), for secondFactor `pin`. */
    pinHash: text(),
    notBefore: timestamp({ withTimezone: true }).notNull(),
    expiresAt: timestamp({ withTimezone: true }).notNull(),
    revokedAt: timestamp({ withTimezone: true }),
    /** The user who shared; null when a patient passed their film on. */
    createdByUserId: uuid().references(() => users.id, { onDelete: 'set null' }),
    /** Auto-offered by the consortium (community centre to its hospital), not by a person. */
    offeredByConsortium: boolean().notNull().default(false),
    /** When the partner's second read is due (institution shares). */
    secondReadDueAt: timestamp({ withTimezone: true }),
    /** Set by the share's timer when the due time passed without a second read. */
    secondReadOverdueAt: timestamp({ withTimezone: true }),
    lastUsedAt: timestamp({ withTimezone: true }),
    useCount: integer().notNull().default(0),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('shares_secret_sha256_key').on(t.secretSha256),
    index('shares_study_idx').on(t.studyId),
    index('shares_partner_idx').on(t.partnerInstitutionId, t.expiresAt),
    index('shares_parent_idx').on(t.parentShareId),
    // A consortium offers a study once, however often its processing repeats.
    uniqueIndex('shares_consortium_offer_key')
      .on(t.studyId)
      .where(sql`offered_by_consortium`),
  ],
);

export type ShareRow = typeof shares.$inferSelect;
