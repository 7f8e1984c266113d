import { and, eq, gte, inArray, lte, or, sql, type SQL } from 'drizzle-orm';
import type { LungRadsCategory } from '../../shared/lung-rads-category.js';
import { DomainError } from '../../shared/errors.js';
import { executePrepared, type Database } from '../client.js';
import { institutions, patients, studies, studyReviews, type StudyReviewStatus } from '../schema/index.js';

export interface WorklistQuery {
  /** Institutions the caller may see; undefined = all (administrators). */
  visibleInstitutionIds: string[] | undefined;
  /** Other institutions' studies shared with the caller's for a second read: listed besides their own. */
  sharedStudyIds?: readonly string[] | undefined;
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

export type WorklistRow = {
  studyId: string;
  institutionId: string;
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
};

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

const ORDER = sql`${studyReviews.triageRank} desc nulls last, ${studyReviews.waitingSince}, ${studyReviews.studyId}`;

/**
 * Studies ordered for triage: highest Lung-RADS category first (see TRIAGE_RANK), then longest waiting, then
 * by id; keyset-paginated so a page costs the same at any depth.
 *
 * The page is chosen first, from study_reviews alone, by walking the triage index (one walk per visible
 * institution, merged: a top-N per institution), and only its rows are joined to studies and patients. So a
 * page reads about `limit` index entries per institution whatever the size of the worklist.
 */
export async function worklist(
  db: Database,
  query: WorklistQuery,
): Promise<{ items: WorklistRow[]; nextCursor: string | null }> {
  let institutionIds = query.visibleInstitutionIds;
  const shared = institutionIds === undefined ? [] : [...(query.sharedStudyIds ?? [])];
  let sharedFrom: string | undefined;
  if (query.institutionCode !== undefined) {
    const [named] = await db
      .select({ id: institutions.id })
      .from(institutions)
      .where(eq(institutions.code, query.institutionCode));
    institutionIds =
      named && (institutionIds === undefined || institutionIds.includes(named.id)) ? [named.id] : [];
    // Shared studies are listed under their own (the sender's) institution.
    if (!named) shared.length = 0;
    sharedFrom = named?.id;
  }
  if (institutionIds?.length === 0 && shared.length === 0) return { items: [], nextCursor: null };

  const where: (SQL | undefined)[] = [];
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
  const take = query.limit + 1;
  const pageColumns = sql`${studyReviews.studyId} as study_id, ${studyReviews.triageRank} as triage_rank, ${studyReviews.waitingSince} as waiting_since`;
  const page =
    institutionIds === undefined
      ? sql`select ${pageColumns} from ${studyReviews} where ${and(sql`true`, ...where)} order by ${ORDER} limit ${take}`
      : sql`select u.* from (
              (select p.* from unnest(${`{${institutionIds.join(',')}}`}::uuid[]) as inst(id)
                cross join lateral (
                  select ${pageColumns} from ${studyReviews}
                  where ${studyReviews.institutionId} = inst.id and ${and(sql`true`, ...where)}
                  order by ${ORDER} limit ${take}
                ) p)
              ${
                shared.length === 0
                  ? sql``
                  : sql`union all (select ${pageColumns} from ${studyReviews}
                      where ${studyReviews.studyId} = any(${`{${shared.join(',')}}`}::uuid[])
                        ${sharedFrom === undefined ? sql`` : sql`and ${studyReviews.institutionId} = ${sharedFrom}::uuid`}
                        and ${studyReviews.institutionId} <> all(${`{${institutionIds.join(',')}}`}::uuid[])
                        and ${and(sql`true`, ...where)}
                      order by ${ORDER} limit ${take})`
              }
            ) u
            order by u.triage_rank desc nulls last, u.waiting_since, u.study_id limit ${take}`;
  const rows = await executePrepared<WorklistRow & { triageRank: number }>(
    db,
    sql`
    with page as (${page})
    select sr.study_id as "studyId", sr.institution_id as "institutionId", i.code as "institutionCode", sr.status, sr.category,
           sr.ai_category as "aiCategory", sr.final_category as "finalCategory", sr.triage_rank as "triageRank",
           sr.waiting_since::text as "waitingSince", sr.study_date::text as "studyDate", sr.version,
           sr.nodule_count::int as "noduleCount",
           s.study_instance_uid as "studyInstanceUid", s.accession_number as "accessionNumber",
           pt.patient_id as "patientId", pt.patient_name as "patientName",
           pt.birth_date::text as "patientBirthDate", pt.sex as "patientSex"
    from page
    join ${studyReviews} sr on sr.study_id = page.study_id
    join ${institutions} i on i.id = sr.institution_id
    join ${studies} s on s.id = sr.study_id
    join ${patients} pt on pt.id = s.patient_id
    order by page.triage_rank desc nulls last, page.waiting_since, page.study_id`,
  );
  const items = [...rows].slice(0, query.limit);
  const last = items.at(-1);
  return {
    items: items.map(({ triageRank: _rank, ...row }) => row),
    nextCursor:
      rows.length > query.limit && last
        ? encodeCursor([last.triageRank, last.waitingSince, last.studyId])
        : null,
  };
}
