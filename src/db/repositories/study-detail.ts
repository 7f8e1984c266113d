import { and, asc, desc, eq, inArray, ne } from 'drizzle-orm';
import type { Database } from '../client.js';
import {
  findings,
  institutions,
  patients,
  reviewedNodules,
  series,
  studies,
  studyReviews,
  volumes,
} from '../schema/index.js';

/** Owner and worklist state of a study, for access checks; undefined for an unknown study. */
export async function studyAccess(db: Database, studyId: string) {
  const [row] = await db
    .select({ institutionId: patients.institutionId })
    .from(studies)
    .innerJoin(patients, eq(patients.id, studies.patientId))
    .where(eq(studies.id, studyId));
  return row;
}

/**
 * Everything a reader needs on one study: identity, review state and Lung-RADS result, series with their
 * volumes, nodules as they stand with the AI's original measurements, and the patient's other studies.
 */
export async function studyDetail(db: Database, studyId: string) {
  const [study] = await db
    .select({
      studyId: studies.id,
      studyInstanceUid: studies.studyInstanceUid,
      accessionNumber: studies.accessionNumber,
      studyDate: studies.studyDate,
      studyDescription: studies.studyDescription,
      patientKey: patients.id,
      patientId: patients.patientId,
      patientName: patients.patientName,
      patientBirthDate: patients.birthDate,
      patientSex: patients.sex,
      institutionId: patients.institutionId,
      institutionCode: institutions.code,
      review: studyReviews,
    })
    .from(studies)
    .innerJoin(patients, eq(patients.id, studies.patientId))
    .innerJoin(institutions, eq(institutions.id, patients.institutionId))
    .leftJoin(studyReviews, eq(studyReviews.studyId, studies.id))
    .where(eq(studies.id, studyId));
  if (!study) return undefined;
  const [seriesRows, nodules, others] = await Promise.all([
    db
      .select({
        seriesId: series.id,
        seriesInstanceUid: series.seriesInstanceUid,
        seriesNumber: series.seriesNumber,
        seriesDescription: series.seriesDescription,
        status: series.status,
        sliceThicknessMm: series.sliceThicknessMm,
        convolutionKernel: series.convolutionKernel,
        manufacturer: series.manufacturer,
        quality: series.quality,
      })
      .from(series)
      .where(eq(series.studyId, studyId))
      .orderBy(asc(series.seriesNumber)),
    db
      .select({
        nodule: reviewedNodules,
        ai: {
          score: findings.score,
          longAxisMm: findings.longAxisMm,
          shortAxisMm: findings.shortAxisMm,
          meanDiameterMm: findings.meanDiameterMm,
          volumeMm3: findings.volumeMm3,
          meanHu: findings.meanHu,
          type: findings.type,
          solidComponentMm: findings.solidComponentMm,
          boundingBoxIjk: findings.boundingBoxIjk,
          maskBlobKey: findings.maskBlobKey,
        },
      })
      .from(reviewedNodules)
      .leftJoin(findings, eq(findings.id, reviewedNodules.findingId))
      .where(eq(reviewedNodules.studyId, studyId))
      .orderBy(asc(reviewedNodules.createdAt), asc(reviewedNodules.id)),
    db
      .select({
        studyId: studies.id,
        studyDate: studies.studyDate,
        category: studyReviews.category,
        finalCategory: studyReviews.finalCategory,
      })
      .from(studies)
      .leftJoin(studyReviews, eq(studyReviews.studyId, studies.id))
      .where(and(eq(studies.patientId, study.patientKey), ne(studies.id, studyId)))
      .orderBy(desc(studies.studyDate)),
  ]);
  const volumeRows =
    seriesRows.length === 0
      ? []
      : await db
          .select({
            seriesId: volumes.seriesId,
            dimensions: volumes.dimensions,
            spacingMm: volumes.spacingMm,
            originLps: volumes.originLps,
            direction: volumes.direction,
            updatedAt: volumes.updatedAt,
          })
          .from(volumes)
          .where(
            inArray(
              volumes.seriesId,
              seriesRows.map((s) => s.seriesId),
            ),
          )
          .orderBy(desc(volumes.updatedAt));
  return {
    ...study,
    series: seriesRows.map((s) => ({
      ...s,
      volume: volumeRows.find((v) => v.seriesId === s.seriesId) ?? null,
    })),
    nodules,
    otherStudies: others,
  };
}

export type StudyDetail = NonNullable<Awaited<ReturnType<typeof studyDetail>>>;
