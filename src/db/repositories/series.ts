import { and, eq, inArray, ne, or, sql } from 'drizzle-orm';
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

/** Counts one more open transfer on a series (see TransferSession). */
export async function openSeriesTransfer(db: Database, seriesId: string): Promise<void> {
  await db
    .update(series)
    .set({ openTransfers: sql`${series.openTransfers} + 1` })
    .where(eq(series.id, seriesId));
}

/** Ends one transfer on each series: one fewer open, and whether the last one to end was interrupted. */
export async function closeSeriesTransfers(
  db: Database,
  seriesIds: readonly string[],
  interrupted: boolean,
): Promise<void> {
  await db
    .update(series)
    .set({ openTransfers: sql`greatest(${series.openTransfers} - 1, 0)`, transferInterrupted: interrupted })
    .where(inArray(series.id, [...seriesIds]));
}

/**
 * After a new instance: the series is receiving again, whatever it showed (its status is final only once it
 * is processed with every instance), and the largest announced instance count is kept.
 */
export async function markSeriesReceiving(
  db: Database,
  seriesId: string,
  announcedInstances: number | undefined,
): Promise<void> {
  await db
    .update(series)
    .set({
      status: 'receiving',
      ...(announcedInstances !== undefined && {
        announcedInstances: sql`greatest(coalesce(${series.announcedInstances}, 0), ${announcedInstances})`,
      }),
    })
    .where(
      and(
        eq(series.id, seriesId),
        announcedInstances === undefined
          ? ne(series.status, 'receiving')
          : or(
              ne(series.status, 'receiving'),
              sql`coalesce(${series.announcedInstances}, 0) < ${announcedInstances}`,
            ),
      ),
    );
}

/** How far the receiving of a series has come, for deciding whether it is complete. */
export interface SeriesReception {
  instanceCount: number;
  /** Transfers that stored into the series and have not ended. */
  openTransfers: number;
  transferInterrupted: boolean;
  announcedInstances: number | null;
  /** When its last instance arrived. */
  lastReceivedAt: Date | null;
}

export async function seriesReception(
  db: Database,
  seriesInstanceUid: string,
): Promise<SeriesReception | undefined> {
  const [row] = await db
    .select({
      // Qualified by hand: drizzle leaves columns unqualified in a one-table select.
      instanceCount: sql<number>`(select count(*)::int from instances i where i.series_id = series.id)`,
      lastReceivedAt: sql<
        string | null
      >`(select max(i.received_at) from instances i where i.series_id = series.id)`,
      openTransfers: series.openTransfers,
      transferInterrupted: series.transferInterrupted,
      announcedInstances: series.announcedInstances,
    })
    .from(series)
    .where(eq(series.seriesInstanceUid, seriesInstanceUid));
  if (!row) return undefined;
  return { ...row, lastReceivedAt: row.lastReceivedAt === null ? null : new Date(row.lastReceivedAt) };
}

/** Marks a series complete with nothing to process (nodus's own SR and SEG series). */
export async function markSeriesDone(db: Database, seriesId: string): Promise<void> {
  await db.update(series).set({ status: 'done' }).where(eq(series.id, seriesId));
}
