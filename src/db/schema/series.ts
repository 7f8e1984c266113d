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
import { SERIES_STATUSES } from '../../shared/series-status.js';
import { id, timestamps } from './columns.js';
import { studies } from './studies.js';

export const seriesStatus = pgEnum('series_status', SERIES_STATUSES);

/** One reason a series is not processed, or is processed with a caveat (maps to Lung-RADS 0 later). */
export interface SeriesQualityIssue {
  code: string;
  severity: 'caveat' | 'reject';
  message: string;
}

/** A DICOM series; the unit of processing (workflow id `series:<SeriesInstanceUID>`). */
export const series = pgTable(
  'series',
  {
    id: id(),
    studyId: uuid()
      .notNull()
      .references(() => studies.id, { onDelete: 'restrict' }),
    /** SeriesInstanceUID (0020,000E). */
    seriesInstanceUid: text().notNull(),
    /** Modality (0008,0060), e.g. CT. */
    modality: text().notNull(),
    seriesNumber: integer(),
    seriesDescription: text(),
    bodyPartExamined: text(),
    /** Manufacturer (0008,0070) and ManufacturerModelName (0008,1090) of the scanner. */
    manufacturer: text(),
    manufacturerModelName: text(),
    /** InstitutionName (0008,0080) as sent. */
    institutionName: text(),
    /** ConvolutionKernel (0018,1210), joined with "\" when multi-valued. */
    convolutionKernel: text(),
    /** SliceThickness (0018,0050), mm. */
    sliceThicknessMm: doublePrecision(),
    /** KVP (0018,0060), kV. */
    kvp: doublePrecision(),
    status: seriesStatus().notNull().default('receiving'),
    quality: jsonb().$type<SeriesQualityIssue[]>().notNull().default([]),
    error: jsonb().$type<{ code: string; message: string }>(),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('series_series_instance_uid_key').on(t.seriesInstanceUid),
    index('series_study_idx').on(t.studyId),
    index('series_status_idx').on(t.status),
  ],
);
