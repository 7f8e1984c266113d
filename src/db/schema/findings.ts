import {
  doublePrecision,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import type { CaliperAxes } from '../../shared/caliper-axes.js';
import { id, timestamps } from './columns.js';
import { inferenceRuns } from './inference-runs.js';
import { series } from './series.js';

export const noduleType = pgEnum('nodule_type', ['solid', 'part-solid', 'ground-glass']);

/** A nodule found by a model run. Positions are LPS mm; diameters are on the axial plane. */
export const findings = pgTable(
  'findings',
  {
    id: id(),
    inferenceRunId: uuid()
      .notNull()
      .references(() => inferenceRuns.id, { onDelete: 'cascade' }),
    seriesId: uuid()
      .notNull()
      .references(() => series.id, { onDelete: 'cascade' }),
    /** Rank of the finding within its run (0 = highest score): the natural key with the run. */
    ordinal: integer().notNull(),
    centreLps: doublePrecision().array().notNull(),
    /** Voxel bounding box [iMin, jMin, kMin, iMax, jMax, kMax], inclusive. */
    boundingBoxIjk: integer().array().notNull(),
    longAxisMm: doublePrecision().notNull(),
    shortAxisMm: doublePrecision().notNull(),
    /** Where the long and short axes were measured (end points, LPS mm); null for runs before 0009. */
    axesLps: jsonb().$type<CaliperAxes>(),
    /** Mean of long and short axis, rounded to 0.1 mm: the Lung-RADS size. */
    meanDiameterMm: doublePrecision().notNull(),
    volumeMm3: doublePrecision().notNull(),
    meanHu: doublePrecision().notNull(),
    type: noduleType().notNull(),
    solidComponentMm: doublePrecision(),
    score: doublePrecision().notNull(),
    /** Blob key of the segmentation mask. */
    maskBlobKey: text(),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('findings_run_ordinal_key').on(t.inferenceRunId, t.ordinal),
    index('findings_series_idx').on(t.seriesId),
  ],
);
