import { eq, sql } from 'drizzle-orm';
import type { SeriesStatus } from '../../shared/series-status.js';
import type { Database } from '../client.js';
import { instances, patients, series, studies, type SeriesQualityIssue } from '../schema/index.js';

export interface SeriesSummary {
  seriesInstanceUid: string;
  studyInstanceUid: string;
  status: SeriesStatus;
  instanceCount: number;
  modality: string;
  quality: SeriesQualityIssue[];
  error: { code: string; message: string } | null;
  updatedAt: Date;
}

export async function findSeries(
  db: Database,
  seriesInstanceUid: string,
): Promise<SeriesSummary | undefined> {
  const [row] = await db
    .select({
      seriesInstanceUid: series.seriesInstanceUid,
      studyInstanceUid: studies.studyInstanceUid,
      status: series.status,
      // Counted, not stored: ingest writes one row per instance and nothing else.
      instanceCount: sql<number>`(select count(*)::int from ${instances} where ${instances.seriesId} = ${series.id})`,
      modality: series.modality,
      quality: series.quality,
      error: series.error,
      updatedAt: series.updatedAt,
    })
    .from(series)
    .innerJoin(studies, eq(series.studyId, studies.id))
    .where(eq(series.seriesInstanceUid, seriesInstanceUid));
  return row;
}

export interface SeriesStatusChange {
  status: SeriesStatus;
  error?: { code: string; message: string } | null;
  quality?: SeriesQualityIssue[];
}

/** Sets a series' status; returns false when the series does not exist. Idempotent. */
export async function setSeriesStatus(
  db: Database,
  seriesInstanceUid: string,
  change: SeriesStatusChange,
): Promise<boolean> {
  const updated = await db
    .update(series)
    .set({
      status: change.status,
      ...(change.error !== undefined && { error: change.error }),
      ...(change.quality !== undefined && { quality: change.quality }),
    })
    .where(eq(series.seriesInstanceUid, seriesInstanceUid))
    .returning({ id: series.id });
  return updated.length > 0;
}

/** The institution owning the series (its patient's), or undefined for an unknown series. */
export async function seriesInstitution(
  db: Database,
  seriesInstanceUid: string,
): Promise<string | undefined> {
  const [row] = await db
    .select({ institutionId: patients.institutionId })
    .from(series)
    .innerJoin(studies, eq(studies.id, series.studyId))
    .innerJoin(patients, eq(patients.id, studies.patientId))
    .where(eq(series.seriesInstanceUid, seriesInstanceUid));
  return row?.institutionId;
}
