import { and, desc, eq, sql } from 'drizzle-orm';
import type { CtVolume } from '../../volume/volume.js';
import type { Database } from '../client.js';
import { series, volumes } from '../schema/index.js';

export interface VolumeRecord {
  blobKey: string;
  sha256: string;
  dimensions: number[];
  spacingMm: number[];
  originLps: number[];
  direction: number[];
}

/** Records a reconstructed volume of a series; idempotent on (series, sha256). */
export async function upsertVolume(
  db: Database,
  seriesInstanceUid: string,
  volume: Pick<CtVolume, 'dimensions' | 'spacingMm' | 'originLps' | 'direction'>,
  blob: { blobKey: string; sha256: string },
): Promise<void> {
  const [row] = await db
    .select({ id: series.id })
    .from(series)
    .where(eq(series.seriesInstanceUid, seriesInstanceUid));
  if (!row) return;
  await db
    .insert(volumes)
    .values({
      seriesId: row.id,
      blobKey: blob.blobKey,
      sha256: blob.sha256,
      dtype: 'int16',
      dimensions: [...volume.dimensions],
      spacingMm: [...volume.spacingMm],
      originLps: [...volume.originLps],
      direction: [...volume.direction],
    })
    .onConflictDoUpdate({ target: [volumes.seriesId, volumes.sha256], set: { updatedAt: sql`now()` } });
}

/** The columns of a {@link VolumeRecord}, for queries that read one. */
export const volumeRecordColumns = {
  blobKey: volumes.blobKey,
  sha256: volumes.sha256,
  dimensions: volumes.dimensions,
  spacingMm: volumes.spacingMm,
  originLps: volumes.originLps,
  direction: volumes.direction,
};

/** The most recently (re)built volume of a series. */
export async function latestVolume(
  db: Database,
  seriesInstanceUid: string,
): Promise<VolumeRecord | undefined> {
  const [row] = await db
    .select(volumeRecordColumns)
    .from(volumes)
    .innerJoin(series, eq(volumes.seriesId, series.id))
    .where(eq(series.seriesInstanceUid, seriesInstanceUid))
    .orderBy(desc(volumes.updatedAt))
    .limit(1);
  return row;
}

/** The volume stored under a blob key, with its exact geometry. */
export async function volumeByBlobKey(db: Database, blobKey: string): Promise<VolumeRecord | undefined> {
  const [row] = await db
    .select(volumeRecordColumns)
    .from(volumes)
    .where(eq(volumes.blobKey, blobKey))
    .limit(1);
  return row;
}

/** The newest volume of a series of the given study (by ids); undefined when either does not match. */
export async function latestVolumeOfStudySeries(
  db: Database,
  studyId: string,
  seriesId: string,
): Promise<VolumeRecord | undefined> {
  const [row] = await db
    .select(volumeRecordColumns)
    .from(volumes)
    .innerJoin(series, eq(series.id, volumes.seriesId))
    .where(and(eq(volumes.seriesId, seriesId), eq(series.studyId, studyId)))
    .orderBy(desc(volumes.updatedAt))
    .limit(1);
  return row;
}
