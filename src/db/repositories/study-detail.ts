import { and, asc, desc, eq, ne, sql } from 'drizzle-orm';
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

/** The detail's queries as named prepared statements: planned once per connection, not on every read. */
function prepareStudyDetail(db: Database) {
  const studyId = sql.placeholder('studyId');
  return {
    study: db
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
      .where(eq(studies.id, studyId))
      .prepare('study_detail_study'),
    series: db
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
      .orderBy(asc(series.seriesNumber))
      .prepare('study_detail_series'),
    volumes: db
      .select({
        seriesId: volumes.seriesId,
        dimensions: volumes.dimensions,
        spacingMm: volumes.spacingMm,
        originLps: volumes.originLps,
        direction: volumes.direction,
        updatedAt: volumes.updatedAt,
      })
      .from(volumes)
      .innerJoin(series, eq(series.id, volumes.seriesId))
      .where(eq(series.studyId, studyId))
      .orderBy(desc(volumes.updatedAt))
      .prepare('study_detail_volumes'),
    nodules: db
      .select({
        nodule: reviewedNodules,
        ai: {
          score: findings.score,
          longAxisMm: findings.longAxisMm,
          shortAxisMm: findings.shortAxisMm,
          axesLps: findings.axesLps,
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
      .orderBy(asc(reviewedNodules.createdAt), asc(reviewedNodules.id))
      .prepare('study_detail_nodules'),
    otherStudies: db
      .select({
        studyId: studies.id,
        studyDate: studies.studyDate,
        category: studyReviews.category,
        finalCategory: studyReviews.finalCategory,
      })
      .from(studies)
      .leftJoin(studyReviews, eq(studyReviews.studyId, studies.id))
      .where(
        and(
          eq(
            studies.patientId,
            sql`(select ${studies.patientId} from ${studies} where ${studies.id} = ${studyId})`,
          ),
          ne(studies.id, studyId),
        ),
      )
      .orderBy(desc(studies.studyDate))
      .prepare('study_detail_other_studies'),
  };
}

const prepared = new WeakMap<Database, ReturnType<typeof prepareStudyDetail>>();

/**
 * Everything a reader needs on one study: identity, review state and Lung-RADS result, series with their
 * newest volumes, nodules as they stand with the AI's original measurements, and the patient's other
 * studies. Five reads, sent together.
 */
export async function studyDetail(db: Database, studyId: string) {
  let queries = prepared.get(db);
  if (!queries) {
    queries = prepareStudyDetail(db);
    prepared.set(db, queries);
  }
  const params = { studyId };
  const [[study], seriesRows, volumeRows, nodules, others] = await Promise.all([
    queries.study.execute(params),
    queries.series.execute(params),
    queries.volumes.execute(params),
    queries.nodules.execute(params),
    queries.otherStudies.execute(params),
  ]);
  if (!study) return undefined;
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
