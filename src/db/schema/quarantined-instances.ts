import { bigint, index, pgEnum, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { id, timestamps } from './columns.js';
import { institutions } from './institutions.js';

/**
 * Why an instance was kept aside instead of registered:
 * - conflict: its SOPInstanceUID is already stored with other content (the stored one stays);
 * - foreign-institution: its SOP instance, series or study belongs to an institution the sender may not write
 *   into (the sender was answered as for a new instance, so it learns nothing about the other institution);
 * - unknown-caller: a DICOM caller not configured for any institution, while NODUS_DICOM_UNKNOWN_CALLERS is
 *   `quarantine`.
 */
export const QUARANTINE_REASONS = ['conflict', 'foreign-institution', 'unknown-caller'] as const;
export type QuarantineReason = (typeof QUARANTINE_REASONS)[number];
export const quarantineReason = pgEnum('quarantine_reason', QUARANTINE_REASONS);

/**
 * Instances kept aside for an administrator, never registered: bounded per SOPInstanceUID and in total bytes
 * (NODUS_QUARANTINE_MAX_BYTES); the same content is kept once.
 */
export const quarantinedInstances = pgTable(
  'quarantined_instances',
  {
    id: id(),
    reason: quarantineReason().notNull(),
    sopInstanceUid: text().notNull(),
    seriesInstanceUid: text().notNull(),
    studyInstanceUid: text().notNull(),
    /** The institution the sender is bound to, when it is (null for an unknown caller). */
    senderInstitutionId: uuid().references(() => institutions.id, { onDelete: 'restrict' }),
    /** Calling AE title and address, STOW-RS user, or import path. */
    source: text().notNull(),
    blobKey: text().notNull(),
    /** Content digest (src/dicom/content-digest.ts). */
    contentDigest: text().notNull(),
    sizeBytes: bigint({ mode: 'number' }).notNull(),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('quarantined_instances_content_key').on(t.sopInstanceUid, t.contentDigest),
    index('quarantined_instances_created_idx').on(t.createdAt),
  ],
);
