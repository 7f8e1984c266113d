import {
  boolean,
  date,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  text,
  time,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { SERIES_STATUSES } from '../../shared/series-status.js';
import { id, timestamps } from './columns.js';
import { studies } from './studies.js';

export const seriesStatus = pgEnum('series_status', SERIES_STATUSES);

/**
 * One reason a series is not processed (`reject`), not complete yet (`incomplete`: Lung-RADS 0 while nodus
 * waits for the rest), or is processed with a caveat.
 */
export interface SeriesQualityIssue {
  code: string;
  severity: 'caveat' | 'reject' | 'incomplete';
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
    /** SeriesDate (0008,0021) and SeriesTime (0008,0031), scanner local time. */
    seriesDate: date(),
    seriesTime: time(),
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
    /**
     * Transfers (DICOM associations, STOW-RS requests, imports) that stored instances of this series and have
     * not ended yet: the series is still being received while this is above 0 (and its last instance is
     * recent; a receiver that died never decrements).
     */
    openTransfers: integer().notNull().default(0),
    /** Whether the last transfer that ended with instances of this series ended abnormally (aborted, cut off). */
    transferInterrupted: boolean().notNull().default(false),
    /** How many instances the sender announced, when it did (ImagesInAcquisition (0020,1002), the largest seen). */
    announcedInstances: integer(),
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
