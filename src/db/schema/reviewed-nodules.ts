import {
  boolean,
  doublePrecision,
  index,
  jsonb,
  pgEnum,
  pgTable,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import type { CaliperAxes } from '../../shared/caliper-axes.js';
import { id, timestamps } from './columns.js';
import { findings, noduleType } from './findings.js';
import { series } from './series.js';
import { studies } from './studies.js';
import { users } from './users.js';

export const NODULE_ORIGINS = ['ai', 'reader'] as const;
export const noduleOrigin = pgEnum('nodule_origin', NODULE_ORIGINS);

export const NODULE_DECISIONS = ['pending', 'accepted', 'rejected'] as const;
export type NoduleDecision = (typeof NODULE_DECISIONS)[number];
export const noduleDecision = pgEnum('nodule_decision', NODULE_DECISIONS);

/**
 * A nodule of a study as it stands in review: an AI finding (its measurements copied, then possibly edited) or
 * one a reader added. The AI's original stays unchanged in `findings`; every change is in `review_actions`.
 * Positions are LPS mm; diameters are on the axial plane, mm.
 */
export const reviewedNodules = pgTable(
  'reviewed_nodules',
  {
    id: id(),
    studyId: uuid()
      .notNull()
      .references(() => studies.id, { onDelete: 'cascade' }),
    seriesId: uuid()
      .notNull()
      .references(() => series.id, { onDelete: 'cascade' }),
    /** The AI finding this nodule started from; null when a reader added it. */
    findingId: uuid().references(() => findings.id, { onDelete: 'set null' }),
    origin: noduleOrigin().notNull(),
    decision: noduleDecision().notNull().default('pending'),
    /** Why it was rejected (see REJECT_REASONS in src/shared/review.ts). */
    rejectReason: text(),
    centreLps: doublePrecision().array().notNull(),
    longAxisMm: doublePrecision().notNull(),
    shortAxisMm: doublePrecision().notNull(),
    /**
     * Where the axes lie (end points, LPS mm): the AI's, or the reader's caliper; null when the lengths were
     * typed (or an edit changed them without a caliper), so they never disagree with the lengths.
     */
    axesLps: jsonb().$type<CaliperAxes>(),
    /** (long + short) / 2 to 0.1 mm: the Lung-RADS size. */
    meanDiameterMm: doublePrecision().notNull(),
    volumeMm3: doublePrecision(),
    type: noduleType().notNull(),
    solidComponentMm: doublePrecision(),
    juxtapleural: boolean().notNull().default(false),
    calcifiedBenign: boolean().notNull().default(false),
    suspiciousFeatures: boolean().notNull().default(false),
    /** Whether a reader changed any measurement or the type. */
    edited: boolean().notNull().default(false),
    lastActorId: uuid().references(() => users.id, { onDelete: 'set null' }),
    ...timestamps,
  },
  (t) => [
    index('reviewed_nodules_study_idx').on(t.studyId),
    uniqueIndex('reviewed_nodules_finding_key').on(t.findingId),
  ],
);

export type ReviewedNoduleRow = typeof reviewedNodules.$inferSelect;
