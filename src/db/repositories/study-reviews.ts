import { and, asc, desc, eq, inArray, lt, ne, sql } from 'drizzle-orm';
import { assessStudy, type AssessedNodule, type StudyAssessment } from '../../findings/study-assessment.js';
import { DomainError } from '../../shared/errors.js';
import { TRIAGE_RANK } from '../../shared/lung-rads-category.js';
import type { Vec3 } from '../../volume/volume.js';
import type { Queryable } from '../client.js';
import {
  findings,
  inferenceRuns,
  patients,
  reviewedNodules,
  series,
  studies,
  studyReviews,
  volumes,
  type ReviewedNoduleRow,
} from '../schema/index.js';

/** The study a series belongs to, with its owner and date. */
export async function studyOfSeries(db: Queryable, seriesInstanceUid: string) {
  const [row] = await db
    .select({
      seriesId: series.id,
      studyId: studies.id,
      studyDate: studies.studyDate,
      institutionId: patients.institutionId,
    })
    .from(series)
    .innerJoin(studies, eq(studies.id, series.studyId))
    .innerJoin(patients, eq(patients.id, studies.patientId))
    .where(eq(series.seriesInstanceUid, seriesInstanceUid));
  if (!row) {
    throw new DomainError('SERIES_NOT_FOUND', `series ${seriesInstanceUid} is unknown`, {
      context: { seriesInstanceUid },
    });
  }
  return row;
}

/** Puts the series' study on the worklist (awaiting AI) when it is not there yet. Idempotent. */
export async function ensureStudyReview(db: Queryable, seriesInstanceUid: string): Promise<void> {
  const study = await studyOfSeries(db, seriesInstanceUid);
  await db
    .insert(studyReviews)
    .values({
      studyId: study.studyId,
      institutionId: study.institutionId,
      studyDate: study.studyDate,
      waitingSince: sql`(select coalesce(min(${series.createdAt}), now()) from ${series} where ${series.studyId} = ${study.studyId})`,
    })
    .onConflictDoNothing({ target: studyReviews.studyId });
}

export const asAssessedNodule = (n: ReviewedNoduleRow): AssessedNodule => ({
  id: n.id,
  centreLps: n.centreLps as Vec3,
  meanDiameterMm: n.meanDiameterMm,
  volumeMm3: n.volumeMm3,
  type: n.type,
  solidComponentMm: n.solidComponentMm,
  juxtapleural: n.juxtapleural,
  calcifiedBenign: n.calcifiedBenign,
  suspiciousFeatures: n.suspiciousFeatures,
});

/**
 * Reasons the study cannot be read (Lung-RADS 0) while none of its series is done: series not complete yet
 * (`incomplete`: nodus waits for the rest), or, once no series is still being processed, series the
 * quality gate rejected or that failed.
 */
async function qualityReasons(
  db: Queryable,
  studyId: string,
): Promise<{ reasons: string[]; incomplete: boolean }> {
  const rows = await db
    .select({ status: series.status, quality: series.quality, error: series.error })
    .from(series)
    .where(eq(series.studyId, studyId));
  const none = { reasons: [], incomplete: false };
  if (rows.length === 0 || rows.some((r) => r.status === 'done')) return none;
  const incomplete = rows.filter((r) => r.status === 'incomplete');
  if (incomplete.length > 0) {
    return {
      reasons: incomplete.flatMap((r) =>
        r.quality
          .filter((q) => q.severity === 'incomplete' || q.severity === 'reject')
          .map((q) => `${q.code}: ${q.message}`),
      ),
      incomplete: true,
    };
  }
  if (rows.some((r) => r.status !== 'rejected' && r.status !== 'failed')) return none;
  return {
    reasons: rows.flatMap((r) =>
      r.status === 'failed'
        ? [`series failed: ${r.error?.code ?? 'unknown'} ${r.error?.message ?? ''}`.trim()]
        : r.quality.filter((q) => q.severity === 'reject').map((q) => `${q.code}: ${q.message}`),
    ),
    incomplete: false,
  };
}

/**
 * Assesses a study as its nodules stand now: its nodules (rejected ones left out), the latest earlier study of
 * the same patient as prior, and the quality gate. Pure computation over a few indexed reads.
 */
export async function assessStoredStudy(
  db: Queryable,
  studyId: string,
): Promise<StudyAssessment & { incomplete: boolean }> {
  const [study] = await db
    .select({ studyDate: studies.studyDate, patientId: studies.patientId })
    .from(studies)
    .where(eq(studies.id, studyId));
  if (!study) throw new DomainError('NOT_FOUND', `study ${studyId} is unknown`);
  const nodules = await db
    .select()
    .from(reviewedNodules)
    .where(and(eq(reviewedNodules.studyId, studyId), ne(reviewedNodules.decision, 'rejected')))
    .orderBy(asc(reviewedNodules.createdAt), asc(reviewedNodules.id));
  const priorStudy =
    study.studyDate === null
      ? undefined
      : (
          await db
            .select({ id: studies.id, uid: studies.studyInstanceUid, studyDate: studies.studyDate })
            .from(studies)
            .where(and(eq(studies.patientId, study.patientId), lt(studies.studyDate, study.studyDate)))
            .orderBy(desc(studies.studyDate))
            .limit(1)
        )[0];
  const priorNodules =
    priorStudy?.studyDate == null
      ? []
      : await db
          .select()
          .from(reviewedNodules)
          .where(and(eq(reviewedNodules.studyId, priorStudy.id), ne(reviewedNodules.decision, 'rejected')));
  const quality = await qualityReasons(db, studyId);
  const assessment = assessStudy(
    {
      studyDate: study.studyDate,
      nodules: nodules.map(asAssessedNodule),
      qualityReasons: quality.reasons,
    },
    priorStudy?.studyDate == null
      ? []
      : [
          {
            studyInstanceUid: priorStudy.uid,
            studyDate: priorStudy.studyDate,
            nodules: priorNodules.map(asAssessedNodule),
          },
        ],
  );
  return { ...assessment, incomplete: quality.incomplete };
}

/** The columns of study_reviews that follow from an assessment. */
export function categoryColumns(assessment: StudyAssessment) {
  const { category } = assessment.lungRads;
  return {
    category,
    triageRank: TRIAGE_RANK[category],
    noduleCount: Object.keys(assessment.statuses).length,
    lungRads: { ...assessment.lungRads, prior: assessment.prior, statuses: assessment.statuses } as Record<
      string,
      unknown
    >,
  };
}

export type AiAssessmentOutcome =
  | { assessed: true; studyId: string; category: string; nodules: number }
  | { assessed: false; studyId: string; reason: 'in-review' | 'signed-off' };

/**
 * Takes the AI result of a processed (or rejected) series into its study's review: the study's AI nodules
 * become the findings of this series' latest run, and the study gets its AI Lung-RADS category. A study a
 * reader has already acted on is left as it is (the reader's work is never overwritten). Idempotent.
 */
export async function assessSeriesForReview(
  db: Queryable,
  seriesInstanceUid: string,
): Promise<AiAssessmentOutcome> {
  await ensureStudyReview(db, seriesInstanceUid);
  const target = await studyOfSeries(db, seriesInstanceUid);
  return db.transaction(async (tx) => {
    const [review] = await tx
      .select({ version: studyReviews.version, status: studyReviews.status })
      .from(studyReviews)
      .where(eq(studyReviews.studyId, target.studyId))
      .for('update');
    if (!review) throw new DomainError('INTERNAL', `study ${target.studyId} has no review row`);
    if (review.status === 'signed-off' || review.version > 0) {
      return {
        assessed: false,
        studyId: target.studyId,
        reason: review.status === 'signed-off' ? 'signed-off' : 'in-review',
      } as const;
    }
    const [run] = await tx
      .select({ id: inferenceRuns.id })
      .from(inferenceRuns)
      .innerJoin(volumes, eq(volumes.id, inferenceRuns.volumeId))
      .where(and(eq(volumes.seriesId, target.seriesId), eq(inferenceRuns.status, 'succeeded')))
      .orderBy(desc(volumes.updatedAt), desc(inferenceRuns.finishedAt))
      .limit(1);
    const aiFindings = run
      ? await tx
          .select()
          .from(findings)
          .where(eq(findings.inferenceRunId, run.id))
          .orderBy(asc(findings.ordinal))
      : [];
    // The study's AI nodules come from the series processed last (one reconstruction per study is read).
    await tx
      .delete(reviewedNodules)
      .where(and(eq(reviewedNodules.studyId, target.studyId), eq(reviewedNodules.origin, 'ai')));
    if (aiFindings.length > 0) {
      await tx.insert(reviewedNodules).values(
        aiFindings.map((f) => ({
          studyId: target.studyId,
          seriesId: target.seriesId,
          findingId: f.id,
          origin: 'ai' as const,
          centreLps: f.centreLps,
          longAxisMm: f.longAxisMm,
          shortAxisMm: f.shortAxisMm,
          axesLps: f.axesLps,
          meanDiameterMm: f.meanDiameterMm,
          volumeMm3: f.volumeMm3,
          type: f.type,
          solidComponentMm: f.solidComponentMm,
        })),
      );
    }
    const assessment = await assessStoredStudy(tx, target.studyId);
    const columns = categoryColumns(assessment);
    await tx
      .update(studyReviews)
      .set({
        ...columns,
        aiCategory: columns.category,
        // Lung-RADS 0 until the rest arrives: said so on the worklist.
        status: assessment.incomplete ? 'incomplete' : 'ready',
      })
      .where(eq(studyReviews.studyId, target.studyId));
    return {
      assessed: true,
      studyId: target.studyId,
      category: columns.category,
      nodules: aiFindings.length,
    } as const;
  });
}

/** The reviewed nodules of studies, by study id. */
export async function nodulesOfStudies(db: Queryable, studyIds: string[]) {
  if (studyIds.length === 0) return [];
  return db
    .select()
    .from(reviewedNodules)
    .where(inArray(reviewedNodules.studyId, studyIds))
    .orderBy(asc(reviewedNodules.createdAt), asc(reviewedNodules.id));
}
