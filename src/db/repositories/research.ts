import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { CohortDefinition } from '../../research/cohort-definition.js';
import { DomainError } from '../../shared/errors.js';
import type { LabelEvidence, LabelSource, LabelTarget, VocabularyKind } from '../../shared/research.js';
import type { Database } from '../client.js';
import {
  cohorts,
  labelVocabularies,
  labels,
  researchProjects,
  reviewedNodules,
  studyReviews,
  type VocabularyCode,
} from '../schema/index.js';

/** A unique violation (23505) as a CONFLICT naming what already exists. */
async function unique<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const code =
      (error as { code?: string; cause?: { code?: string } }).cause?.code ??
      (error as { code?: string }).code;
    if (code === '23505') throw new DomainError('CONFLICT', `${what} already exists`);
    throw error;
  }
}

export async function createProject(db: Database, input: { name: string; description?: string | undefined }) {
  const [row] = await unique(`project "${input.name}"`, () =>
    db
      .insert(researchProjects)
      .values({ name: input.name, description: input.description ?? '' })
      .returning(),
  );
  return row!;
}

export async function listProjects(db: Database) {
  return db.select().from(researchProjects).orderBy(asc(researchProjects.name));
}

export async function projectById(db: Database, projectId: string) {
  const [row] = await db.select().from(researchProjects).where(eq(researchProjects.id, projectId));
  if (!row) throw new DomainError('NOT_FOUND', `no research project ${projectId}`);
  return row;
}

export interface VocabularyInput {
  name: string;
  target: LabelTarget;
  kind: VocabularyKind;
  codes?: VocabularyCode[] | undefined;
  unit?: string | undefined;
}

export async function createVocabulary(db: Database, projectId: string, input: VocabularyInput) {
  if (input.kind === 'category' && !input.codes?.length) {
    throw new DomainError('VALIDATION_FAILED', 'a category vocabulary needs its codes');
  }
  if (input.kind === 'number' && input.codes?.length) {
    throw new DomainError('VALIDATION_FAILED', 'a number vocabulary has a unit, not codes');
  }
  await projectById(db, projectId);
  const [row] = await unique(`vocabulary "${input.name}"`, () =>
    db
      .insert(labelVocabularies)
      .values({
        projectId,
        name: input.name,
        target: input.target,
        kind: input.kind,
        codes: input.codes ?? [],
        unit: input.kind === 'number' ? (input.unit ?? null) : null,
      })
      .returning(),
  );
  return row!;
}

export async function listVocabularies(db: Database, projectId: string) {
  return db
    .select()
    .from(labelVocabularies)
    .where(eq(labelVocabularies.projectId, projectId))
    .orderBy(asc(labelVocabularies.name));
}

export interface LabelInput {
  vocabulary: string;
  studyId: string;
  noduleId?: string | undefined;
  code?: string | undefined;
  number?: number | undefined;
  source: LabelSource;
  /** `model` labels: `id@version`. */
  model?: string | undefined;
  evidence: LabelEvidence;
  note?: string | undefined;
}

/**
 * Records a label after checking it against the project's vocabulary: the target (study or nodule of that
 * study), the value (a known code, or a number) and the provenance (a model label names its model; reader and
 * consensus labels are the caller's).
 */
export async function addLabel(db: Database, projectId: string, userId: string, input: LabelInput) {
  const [vocabulary] = await db
    .select()
    .from(labelVocabularies)
    .where(and(eq(labelVocabularies.projectId, projectId), eq(labelVocabularies.name, input.vocabulary)));
  if (!vocabulary)
    throw new DomainError('VALIDATION_FAILED', `no vocabulary "${input.vocabulary}" in this project`);
  if (vocabulary.target === 'nodule') {
    if (!input.noduleId)
      throw new DomainError('VALIDATION_FAILED', `"${vocabulary.name}" labels nodules: noduleId is required`);
    const [nodule] = await db
      .select({ studyId: reviewedNodules.studyId })
      .from(reviewedNodules)
      .where(eq(reviewedNodules.id, input.noduleId));
    if (nodule?.studyId !== input.studyId) {
      throw new DomainError(
        'VALIDATION_FAILED',
        `nodule ${input.noduleId} is not a nodule of study ${input.studyId}`,
      );
    }
  } else if (input.noduleId) {
    throw new DomainError('VALIDATION_FAILED', `"${vocabulary.name}" labels studies: no noduleId`);
  }
  if (vocabulary.kind === 'category') {
    if (input.code === undefined || input.number !== undefined) {
      throw new DomainError('VALIDATION_FAILED', `"${vocabulary.name}" takes a code`);
    }
    if (!vocabulary.codes.some((c) => c.code === input.code)) {
      throw new DomainError(
        'VALIDATION_FAILED',
        `"${vocabulary.name}" has no code "${input.code}" (codes: ${vocabulary.codes.map((c) => c.code).join(', ')})`,
      );
    }
  } else if (input.number === undefined || input.code !== undefined) {
    throw new DomainError(
      'VALIDATION_FAILED',
      `"${vocabulary.name}" takes a number (${vocabulary.unit ?? 'no unit'})`,
    );
  }
  if (input.source === 'model' && !input.model) {
    throw new DomainError('VALIDATION_FAILED', 'a model label names its model (id@version)');
  }
  const [row] = await db
    .insert(labels)
    .values({
      vocabularyId: vocabulary.id,
      studyId: input.studyId,
      noduleId: input.noduleId ?? null,
      valueCode: input.code ?? null,
      valueNumber: input.number ?? null,
      source: input.source,
      sourceModel: input.source === 'model' ? input.model! : null,
      sourceUserId: input.source === 'model' ? null : userId,
      evidence: input.evidence,
      note: input.note ?? null,
    })
    .returning();
  return row!;
}

/**
 * A project's labels, oldest first: of one study when `studyId` is given, and only on studies of
 * `institutionIds` when those are given (undefined: all, for admins).
 */
export async function listLabels(
  db: Database,
  projectId: string,
  filter: { studyId?: string | undefined; institutionIds?: readonly string[] | undefined },
) {
  return db
    .select({
      id: labels.id,
      vocabulary: labelVocabularies.name,
      studyId: labels.studyId,
      noduleId: labels.noduleId,
      code: labels.valueCode,
      number: labels.valueNumber,
      unit: labelVocabularies.unit,
      source: labels.source,
      model: labels.sourceModel,
      userId: labels.sourceUserId,
      evidence: labels.evidence,
      note: labels.note,
      createdAt: labels.createdAt,
    })
    .from(labels)
    .innerJoin(labelVocabularies, eq(labelVocabularies.id, labels.vocabularyId))
    .innerJoin(studyReviews, eq(studyReviews.studyId, labels.studyId))
    .where(
      and(
        eq(labelVocabularies.projectId, projectId),
        filter.studyId === undefined ? undefined : eq(labels.studyId, filter.studyId),
        filter.institutionIds === undefined
          ? undefined
          : filter.institutionIds.length === 0
            ? sql`false`
            : inArray(studyReviews.institutionId, [...filter.institutionIds]),
      ),
    )
    .orderBy(asc(labels.id));
}

export async function saveCohort(
  db: Database,
  projectId: string,
  userId: string,
  input: { name: string; definition: CohortDefinition },
) {
  const [row] = await unique(`cohort "${input.name}"`, () =>
    db
      .insert(cohorts)
      .values({ projectId, name: input.name, definition: input.definition, createdBy: userId })
      .returning(),
  );
  return row!;
}

export async function cohortById(db: Database, cohortId: string) {
  const [row] = await db.select().from(cohorts).where(eq(cohorts.id, cohortId));
  if (!row) throw new DomainError('NOT_FOUND', `no cohort ${cohortId}`);
  return row;
}
