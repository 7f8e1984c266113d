import { and, asc, desc, eq, gte, inArray, lte, or, sql, type SQL } from 'drizzle-orm';
import type { LungRadsCategory } from '../../shared/lung-rads-category.js';
import { DomainError } from '../../shared/errors.js';
import type { Database } from '../client.js';
import {
  institutions,
  patients,
  reviewedNodules,
  studies,
  studyReviews,
  type StudyReviewStatus,
} from '../schema/index.js';

export interface WorklistQuery {
  /** Institutions the caller may see; undefined = all (administrators). */
  visibleInstitutionIds: string[] | undefined;
  institutionCode?: string | undefined;
  status?: StudyReviewStatus[] | undefined;
  category?: LungRadsCategory[] | undefined;
  /** StudyDate range, inclusive, YYYY-MM-DD. */
  studyDateFrom?: string | undefined;
  studyDateTo?: string | undefined;
  /** Opaque cursor from the previous page's `nextCursor`. */
  cursor?: string | undefined;
  limit: number;
}

export interface WorklistRow {
  studyId: string;
  institutionCode: string;
  status: StudyReviewStatus;
  category: LungRadsCategory | null;
  aiCategory: LungRadsCategory | null;
  finalCategory: LungRadsCategory | null;
  waitingSince: string;
  studyDate: string | null;
  version: number;
  /** Nodules not rejected. */
  noduleCount: number;
  studyInstanceUid: string;
  accessionNumber: string | null;
  patientId: string;
  patientName: string | null;
  patientBirthDate: string | null;
  patientSex: string | null;
}

/** The worklist's position: (triage rank, waiting since as Postgres text, study id). */
type Cursor = [number, string, string];

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeCursor(text: string): Cursor {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (
      Array.isArray(value) &&
      value.length === 3 &&
      Number.isInteger(value[0]) &&
      typeof value[1] === 'string' &&
      !Number.isNaN(Date.parse(value[1])) &&
      typeof value[2] === 'string' &&
      /^[0-9a-f-]{36}$/.test(value[2])
    ) {
      return value as Cursor;
    }
  } catch {
    // Reported below.
  }
  throw new DomainError('VALIDATION_FAILED', 'cursor: not a cursor this API returned');
}

/**
 * Studies ordered for triage: highest Lung-RADS category first (see TRIAGE_RANK), then longest waiting, then
 * by id; keyset-paginated so a page costs the same at any depth.
 */
export async function worklist(
  db: Database,
  query: WorklistQuery,
): Promise<{ items: WorklistRow[]; nextCursor: string | null }> {
  const where: (SQL | undefined)[] = [];
  if (query.visibleInstitutionIds !== undefined) {
    if (query.visibleInstitutionIds.length === 0) return { items: [], nextCursor: null };
    where.push(inArray(studyReviews.institutionId, query.visibleInstitutionIds));
  }
  if (query.institutionCode !== undefined) where.push(eq(institutions.code, query.institutionCode));
  if (query.status?.length) where.push(inArray(studyReviews.status, query.status));
  if (query.category?.length) where.push(inArray(studyReviews.category, query.category));
  if (query.studyDateFrom) where.push(gte(studyReviews.studyDate, query.studyDateFrom));
  if (query.studyDateTo) where.push(lte(studyReviews.studyDate, query.studyDateTo));
  if (query.cursor) {
    const [rank, waiting, id] = decodeCursor(query.cursor);
    where.push(
      or(
        sql`${studyReviews.triageRank} < ${rank}`,
        and(
          eq(studyReviews.triageRank, rank),
          sql`(${studyReviews.waitingSince}, ${studyReviews.studyId}) > (${waiting}::timestamptz, ${id}::uuid)`,
        ),
      ),
    );
  }
  const rows = await db
    .select({
      studyId: studyReviews.studyId,
      institutionCode: institutions.code,
      status: studyReviews.status,
      category: studyReviews.category,
      aiCategory: studyReviews.aiCategory,
      finalCategory: studyReviews.finalCategory,
      triageRank: studyReviews.triageRank,
      waitingSince: sql<string>`${studyReviews.waitingSince}::text`,
      studyDate: studyReviews.studyDate,
      version: studyReviews.version,
      noduleCount: sql<number>`(select count(*)::int from ${reviewedNodules} where ${reviewedNodules.studyId} = ${studyReviews.studyId} and ${reviewedNodules.decision} <> 'rejected')`,
      studyInstanceUid: studies.studyInstanceUid,
      accessionNumber: studies.accessionNumber,
      patientId: patients.patientId,
      patientName: patients.patientName,
      patientBirthDate: patients.birthDate,
      patientSex: patients.sex,
    })
    .from(studyReviews)
    .innerJoin(institutions, eq(institutions.id, studyReviews.institutionId))
    .innerJoin(studies, eq(studies.id, studyReviews.studyId))
    .innerJoin(patients, eq(patients.id, studies.patientId))
    .where(and(...where))
    .orderBy(desc(studyReviews.triageRank), asc(studyReviews.waitingSince), asc(studyReviews.studyId))
    .limit(query.limit + 1);
  const items = rows.slice(0, query.limit);
  const last = items.at(-1);
  return {
    items: items.map(({ triageRank: _rank, ...row }) => row),
    nextCursor:
      rows.length > query.limit && last
        ? encodeCursor([last.triageRank, last.waitingSince, last.studyId])
        : null,
  };
}
