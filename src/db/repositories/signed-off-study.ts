import { and, asc, desc, eq, inArray } from 'drizzle-orm';
import type { CaliperAxes } from '../../shared/caliper-axes.js';
import type { NoduleType } from '../../phantom/nodule-type.js';
import { DomainError } from '../../shared/errors.js';
import type { LungRadsCategory } from '../../shared/lung-rads-category.js';
import type { Database } from '../client.js';
import {
  findings,
  inferenceRuns,
  instances,
  institutions,
  patients,
  reviewedNodules,
  series,
  studies,
  studyReviews,
  users,
  volumes,
} from '../schema/index.js';
import { volumeRecordColumns, type VolumeRecord } from './volumes.js';

/** An accepted nodule as it stands after review; `ai` is the finding it started from (null: reader-added). */
export interface SignedOffNoduleRecord {
  noduleId: string;
  origin: 'ai' | 'reader';
  /** LPS mm. */
  centreLps: number[];
  longAxisMm: number;
  shortAxisMm: number;
  /** Where the axes lie (the AI's or the reader's caliper), LPS mm; null when typed. */
  axesLps: CaliperAxes | null;
  meanDiameterMm: number;
  volumeMm3: number | null;
  type: NoduleType;
  solidComponentMm: number | null;
  ai: {
    score: number;
    meanHu: number;
    /** [iMin, jMin, kMin, iMax, jMax, kMax] on the grid of the run's volume, inclusive. */
    boundingBoxIjk: number[];
    maskBlobKey: string | null;
    /** The volume the finding's model run read: the grid its mask lies on. */
    volumeId: string;
  } | null;
}

/** What the signed-off report of a study is written from. */
export interface SignedOffStudy {
  studyId: string;
  /** The review's version at sign-off: with the study id, the key of the report's UIDs. */
  version: number;
  finalCategory: LungRadsCategory;
  signedOffAt: Date;
  signedOffBy: { userId: string; displayName: string; email: string } | null;
  institutionName: string;
  /** The series the nodules lie on (the study's processed series when none is accepted). */
  series: { seriesId: string; seriesInstanceUid: string };
  /** Blob keys of the series' stored instances, in no particular order. */
  instanceBlobKeys: string[];
  /** The volume the AI ran on (the masks' grid); the series' newest when no accepted nodule has a finding. */
  volume: VolumeRecord;
  /** Accepted nodules, oldest first; all on `series`. */
  nodules: SignedOffNoduleRecord[];
}

const volumeColumns = { id: volumes.id, ...volumeRecordColumns };

/**
 * Loads what the signed-off report of a study needs. NOT_FOUND for an unknown study or one without a volume;
 * CONFLICT when the study is not signed off, or when its accepted nodules lie on more than one series or
 * AI run volume (one SEG and SR describe one series).
 */
export async function loadSignedOffStudy(db: Database, studyId: string): Promise<SignedOffStudy> {
  const [review] = await db
    .select({
      status: studyReviews.status,
      version: studyReviews.version,
      finalCategory: studyReviews.finalCategory,
      signedOffAt: studyReviews.signedOffAt,
      signedOffBy: studyReviews.signedOffBy,
      signerName: users.displayName,
      signerEmail: users.email,
      institutionName: institutions.name,
    })
    .from(studies)
    .innerJoin(patients, eq(patients.id, studies.patientId))
    .innerJoin(institutions, eq(institutions.id, patients.institutionId))
    .leftJoin(studyReviews, eq(studyReviews.studyId, studies.id))
    .leftJoin(users, eq(users.id, studyReviews.signedOffBy))
    .where(eq(studies.id, studyId));
  if (!review) throw new DomainError('NOT_FOUND', `study ${studyId} is unknown`);
  if (
    review.status !== 'signed-off' ||
    !review.finalCategory ||
    !review.signedOffAt ||
    review.version === null
  ) {
    throw new DomainError('CONFLICT', 'the study is not signed off', {
      context: { status: review.status ?? 'awaiting-ai' },
    });
  }

  const rows = await db
    .select({
      nodule: reviewedNodules,
      finding: findings,
      run: { volumeId: inferenceRuns.volumeId },
    })
    .from(reviewedNodules)
    .leftJoin(findings, eq(findings.id, reviewedNodules.findingId))
    .leftJoin(inferenceRuns, eq(inferenceRuns.id, findings.inferenceRunId))
    .where(and(eq(reviewedNodules.studyId, studyId), eq(reviewedNodules.decision, 'accepted')))
    .orderBy(asc(reviewedNodules.createdAt), asc(reviewedNodules.id));
  const nodules: SignedOffNoduleRecord[] = rows.map(({ nodule, finding, run }) => ({
    noduleId: nodule.id,
    origin: nodule.origin,
    centreLps: nodule.centreLps,
    longAxisMm: nodule.longAxisMm,
    shortAxisMm: nodule.shortAxisMm,
    axesLps: nodule.axesLps,
    meanDiameterMm: nodule.meanDiameterMm,
    volumeMm3: nodule.volumeMm3,
    type: nodule.type,
    solidComponentMm: nodule.solidComponentMm,
    ai:
      finding && run
        ? {
            score: finding.score,
            meanHu: finding.meanHu,
            boundingBoxIjk: finding.boundingBoxIjk,
            maskBlobKey: finding.maskBlobKey,
            volumeId: run.volumeId,
          }
        : null,
  }));

  const seriesIds = [...new Set(rows.map((r) => r.nodule.seriesId))];
  if (seriesIds.length > 1) {
    throw new DomainError('CONFLICT', 'the accepted nodules lie on more than one series', {
      context: { seriesIds },
    });
  }
  const [target] = await db
    .select({ seriesId: series.id, seriesInstanceUid: series.seriesInstanceUid })
    .from(series)
    .innerJoin(volumes, eq(volumes.seriesId, series.id))
    .where(
      seriesIds.length > 0
        ? and(eq(series.studyId, studyId), inArray(series.id, seriesIds))
        : eq(series.studyId, studyId),
    )
    .orderBy(desc(volumes.updatedAt))
    .limit(1);
  if (!target) throw new DomainError('NOT_FOUND', `study ${studyId} has no reconstructed series`);

  const runVolumeIds = [...new Set(nodules.flatMap((n) => (n.ai ? [n.ai.volumeId] : [])))];
  if (runVolumeIds.length > 1) {
    throw new DomainError('CONFLICT', 'the accepted nodules come from AI runs on different volumes', {
      context: { volumeIds: runVolumeIds },
    });
  }
  const [volume] = await db
    .select(volumeColumns)
    .from(volumes)
    .where(
      runVolumeIds[0] !== undefined ? eq(volumes.id, runVolumeIds[0]) : eq(volumes.seriesId, target.seriesId),
    )
    .orderBy(desc(volumes.updatedAt))
    .limit(1);
  if (!volume) throw new DomainError('NOT_FOUND', `series ${target.seriesId} has no volume`);

  const instanceRows = await db
    .select({ blobKey: instances.blobKey })
    .from(instances)
    .where(eq(instances.seriesId, target.seriesId));

  const { id: _volumeId, ...volumeRecord } = volume;
  return {
    studyId,
    version: review.version,
    finalCategory: review.finalCategory,
    signedOffAt: review.signedOffAt,
    signedOffBy:
      review.signedOffBy && review.signerName && review.signerEmail
        ? { userId: review.signedOffBy, displayName: review.signerName, email: review.signerEmail }
        : null,
    institutionName: review.institutionName,
    series: target,
    instanceBlobKeys: instanceRows.map((r) => r.blobKey),
    volume: volumeRecord,
    nodules,
  };
}
