import { and, eq, inArray, sql, type SQL } from 'drizzle-orm';
import type { CohortDefinition } from '../../research/cohort-definition.js';
import { DomainError } from '../../shared/errors.js';
import type { Queryable } from '../client.js';
import { labelVocabularies } from '../schema/index.js';

/** One member of a cohort: a study, the CT series it contributes and that series' newest volume. */
export interface CohortMember {
  studyId: string;
  seriesId: string;
  volumeSha256: string;
}

export interface CohortScope {
  projectId: string;
  /** Institutions the caller sees; undefined: all (admins). */
  institutionIds: readonly string[] | undefined;
}

/** Counts shown before a cohort is saved. */
export interface CohortPreview {
  studies: number;
  patients: number;
  /** Nodules not rejected by a reader. */
  nodules: number;
  /** Studies by current Lung-RADS category ('none' before the AI result). */
  byCategory: Record<string, number>;
}

/**
 * The members of a cohort, ordered by study id (a stable order for snapshots). Unknown label vocabularies
 * and codes outside a vocabulary are VALIDATION_FAILED errors, not empty cohorts.
 */
export async function cohortMembers(
  db: Queryable,
  definition: CohortDefinition,
  scope: CohortScope,
): Promise<CohortMember[]> {
  const members = await membersQuery(db, definition, scope);
  const rows = await db.execute<{ study_id: string; series_id: string; volume_sha256: string }>(
    sql`SELECT study_id, series_id, volume_sha256 FROM (${members}) m ORDER BY study_id`,
  );
  return rows.map((row) => ({
    studyId: row.study_id,
    seriesId: row.series_id,
    volumeSha256: row.volume_sha256,
  }));
}

/** Counts of the cohort's studies, patients, nodules and categories. */
export async function previewCohort(
  db: Queryable,
  definition: CohortDefinition,
  scope: CohortScope,
): Promise<CohortPreview> {
  const members = await membersQuery(db, definition, scope);
  const [totals] = await db.execute<{ studies: number; patients: number; nodules: number }>(sql`
    WITH m AS (${members})
    SELECT count(*)::int AS studies,
           count(DISTINCT st.patient_id)::int AS patients,
           coalesce(sum((SELECT count(*) FROM reviewed_nodules n
                         WHERE n.study_id = m.study_id AND n.decision <> 'rejected')), 0)::int AS nodules
    FROM m JOIN studies st ON st.id = m.study_id`);
  const categories = await db.execute<{ category: string | null; studies: number }>(sql`
    WITH m AS (${members})
    SELECT sr.category::text AS category, count(*)::int AS studies
    FROM m JOIN study_reviews sr ON sr.study_id = m.study_id
    GROUP BY 1 ORDER BY 1`);
  return {
    studies: totals?.studies ?? 0,
    patients: totals?.patients ?? 0,
    nodules: totals?.nodules ?? 0,
    byCategory: Object.fromEntries(categories.map((row) => [row.category ?? 'none', row.studies])),
  };
}

/** SELECT study_id, series_id, volume_sha256 of the members (no ORDER BY). */
async function membersQuery(db: Queryable, definition: CohortDefinition, scope: CohortScope): Promise<SQL> {
  const conditions: SQL[] = [];
  if (scope.institutionIds) {
    if (scope.institutionIds.length === 0) conditions.push(sql`false`);
    else conditions.push(sql`sr.institution_id IN ${list(scope.institutionIds)}`);
  }
  if (definition.institutions) {
    conditions.push(
      sql`sr.institution_id IN (SELECT id FROM institutions WHERE code IN ${list(definition.institutions)})`,
    );
  }
  const { studyDate } = definition;
  if (studyDate?.from) conditions.push(sql`st.study_date >= ${studyDate.from}`);
  if (studyDate?.to) conditions.push(sql`st.study_date <= ${studyDate.to}`);
  if (definition.lungRads) {
    const column = { ai: sql`sr.ai_category`, current: sql`sr.category`, final: sql`sr.final_category` }[
      definition.lungRads.of
    ];
    conditions.push(sql`${column}::text IN ${list(definition.lungRads.categories)}`);
  }
  if (definition.reviewStatus) conditions.push(sql`sr.status::text IN ${list(definition.reviewStatus)}`);
  if (definition.nodule) {
    const nodule: SQL[] = [sql`n.study_id = st.id`, sql`n.decision <> 'rejected'`];
    const { meanDiameterMm, types } = definition.nodule;
    if (meanDiameterMm?.min !== undefined) nodule.push(sql`n.mean_diameter_mm >= ${meanDiameterMm.min}`);
    if (meanDiameterMm?.max !== undefined) nodule.push(sql`n.mean_diameter_mm <= ${meanDiameterMm.max}`);
    if (types) nodule.push(sql`n.type::text IN ${list(types)}`);
    conditions.push(sql`EXISTS (SELECT 1 FROM reviewed_nodules n WHERE ${sql.join(nodule, sql` AND `)})`);
  }
  if (definition.models) {
    conditions.push(sql`EXISTS (
      SELECT 1 FROM inference_runs ir
      JOIN models mo ON mo.id = ir.model_id
      WHERE ir.volume_id = v.id AND ir.status = 'succeeded'
        AND (ir.parameters->>'detector' IN ${list(definition.models)}
             OR mo.model_id || '@' || mo.version IN ${list(definition.models)}))`);
  }
  for (const condition of await labelConditions(db, definition, scope.projectId)) conditions.push(condition);
  if (definition.scanner?.manufacturers) {
    conditions.push(sql`se.manufacturer IN ${list(definition.scanner.manufacturers)}`);
  }
  if (definition.scanner?.models) {
    conditions.push(sql`se.manufacturer_model_name IN ${list(definition.scanner.models)}`);
  }
  if (definition.kernels) conditions.push(sql`se.convolution_kernel IN ${list(definition.kernels)}`);
  const thickness = definition.sliceThicknessMm;
  if (thickness?.min !== undefined) conditions.push(sql`se.slice_thickness_mm >= ${thickness.min}`);
  if (thickness?.max !== undefined) conditions.push(sql`se.slice_thickness_mm <= ${thickness.max}`);

  const where = conditions.length ? sql`WHERE ${sql.join(conditions, sql` AND `)}` : sql``;
  return sql`SELECT DISTINCT ON (st.id) st.id AS study_id, se.id AS series_id, v.sha256 AS volume_sha256
    FROM studies st
    JOIN study_reviews sr ON sr.study_id = st.id
    JOIN series se ON se.study_id = st.id AND se.modality = 'CT'
    JOIN volumes v ON v.series_id = se.id
    ${where}
    ORDER BY st.id, v.updated_at DESC, v.id`;
}

/** One EXISTS per label condition, after checking the vocabulary and its codes. */
async function labelConditions(
  db: Queryable,
  definition: CohortDefinition,
  projectId: string,
): Promise<SQL[]> {
  if (!definition.labels) return [];
  const names = definition.labels.map((condition) => condition.vocabulary);
  const vocabularies = await db
    .select()
    .from(labelVocabularies)
    .where(and(eq(labelVocabularies.projectId, projectId), inArray(labelVocabularies.name, names)));
  return definition.labels.map((condition) => {
    const vocabulary = vocabularies.find((v) => v.name === condition.vocabulary);
    if (!vocabulary) {
      throw new DomainError(
        'VALIDATION_FAILED',
        `labels: no vocabulary "${condition.vocabulary}" in this project`,
      );
    }
    const value: SQL[] = [sql`l.study_id = st.id`, sql`l.vocabulary_id = ${vocabulary.id}`];
    if (condition.codes) {
      if (vocabulary.kind !== 'category') {
        throw new DomainError('VALIDATION_FAILED', `labels: "${vocabulary.name}" holds numbers; use range`);
      }
      const unknown = condition.codes.filter((code) => !vocabulary.codes.some((c) => c.code === code));
      if (unknown.length) {
        throw new DomainError(
          'VALIDATION_FAILED',
          `labels: "${vocabulary.name}" has no code ${unknown.join(', ')} (codes: ${vocabulary.codes.map((c) => c.code).join(', ')})`,
        );
      }
      value.push(sql`l.value_code IN ${list(condition.codes)}`);
    }
    if (condition.range) {
      if (vocabulary.kind !== 'number') {
        throw new DomainError('VALIDATION_FAILED', `labels: "${vocabulary.name}" holds codes; use codes`);
      }
      if (condition.range.min !== undefined) value.push(sql`l.value_number >= ${condition.range.min}`);
      if (condition.range.max !== undefined) value.push(sql`l.value_number <= ${condition.range.max}`);
    }
    return sql`EXISTS (SELECT 1 FROM labels l WHERE ${sql.join(value, sql` AND `)})`;
  });
}

/** `(a, b, c)` with each value bound as a parameter. */
function list(values: readonly (string | number)[]): SQL {
  return sql`(${sql.join(
    values.map((value) => sql`${value}`),
    sql`, `,
  )})`;
}
