import { doublePrecision, integer, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { id, timestamps } from './columns.js';
import { series } from './series.js';

/**
 * A reconstructed voxel volume of a series, stored in the blob store.
 * Frame: DICOM patient coordinates (LPS, mm). Voxel (i, j, k) = column, row, slice;
 * position = origin + i*spacing[0]*direction[0..2] + j*spacing[1]*direction[3..5] + k*spacing[2]*direction[6..8].
 */
export const volumes = pgTable(
  'volumes',
  {
    id: id(),
    seriesId: uuid()
      .notNull()
      .references(() => series.id, { onDelete: 'cascade' }),
    blobKey: text().notNull(),
    /** SHA-256 of the voxel blob, hex: identifies the exact input of an inference run. */
    sha256: text().notNull(),
    /** Voxel data type, e.g. int16 (Hounsfield units). */
    dtype: text().notNull(),
    /** [columns, rows, slices] (i, j, k). */
    dimensions: integer().array().notNull(),
    /** Voxel size along i, j, k in mm. */
    spacingMm: doublePrecision().array().notNull(),
    /** LPS position of voxel (0,0,0) centre, mm. */
    originLps: doublePrecision().array().notNull(),
    /** Row-major 3x3: unit vectors of the i, j and k axes in LPS. */
    direction: doublePrecision().array().notNull(),
    ...timestamps,
  },
  (t) => [uniqueIndex('volumes_series_sha256_key').on(t.seriesId, t.sha256)],
);
