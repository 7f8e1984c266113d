import {
  bigint,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';
import { SNAPSHOT_STATUSES } from '../../shared/research.js';
import type { CohortDefinition } from '../../research/cohort-definition.js';
import { cohorts } from './cohorts.js';
import { id } from './columns.js';
import { series } from './series.js';
import { studies } from './studies.js';
import { users } from './users.js';

export const snapshotStatus = pgEnum('snapshot_status', SNAPSHOT_STATUSES);

/**
 * A frozen cohort: its members and their data as they were, and the manifest of every export file
 * (path, size, SHA-256), so every later export can be checked byte for byte. Once `frozen` the row never
 * changes (a trigger refuses updates).
 */
export const cohortSnapshots = pgTable('cohort_snapshots', {
  id: id(),
  cohortId: uuid()
    .notNull()
    .references(() => cohorts.id, { onDelete: 'restrict' }),
  /** The cohort's definition when it was frozen (the cohort may be edited later). */
  definition: jsonb().$type<CohortDefinition>().notNull(),
  status: snapshotStatus().notNull().default('freezing'),
  /** Blob key of the captured, de-identified data (canonical JSON). */
  dataBlobKey: text(),
  /** Blob key and SHA-256 of manifest.json, which lists every export file. */
  manifestBlobKey: text(),
  manifestSha256: text(),
  studyCount: integer(),
  noduleCount: integer(),
  fileCount: integer(),
  totalBytes: bigint({ mode: 'number' }),
  error: text(),
  createdBy: uuid()
    .notNull()
    .references(() => users.id, { onDelete: 'restrict' }),
  createdAt: timestamp({ withTimezone: true }).defaultNow().notNull(),
  frozenAt: timestamp({ withTimezone: true }),
});

/** The studies of a snapshot and the exact series and volume each contributes. */
export const cohortSnapshotMembers = pgTable(
  'cohort_snapshot_members',
  {
    snapshotId: uuid()
      .notNull()
      .references(() => cohortSnapshots.id, { onDelete: 'cascade' }),
    studyId: uuid()
      .notNull()
      .references(() => studies.id, { onDelete: 'restrict' }),
    seriesId: uuid()
      .notNull()
      .references(() => series.id, { onDelete: 'restrict' }),
    /** SHA-256 of the volume exported (the content, whatever later reconstructions produce). */
    volumeSha256: text().notNull(),
  },
  (t) => [primaryKey({ columns: [t.snapshotId, t.studyId] })],
);
