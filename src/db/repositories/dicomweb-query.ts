import { sql, type SQL } from 'drizzle-orm';
import type { QidoFilter, QidoQuery } from '../../api/dicomweb/qido-query.js';
import type { DicomJsonDataset } from '../../dicom/dicom-json.js';
import type { Database } from '../client.js';

/** Which studies a caller may see, and where in the hierarchy the query is scoped (the URL's UIDs). */
export interface QidoScope {
  /** Institutions whose studies are visible; undefined: all (administrators). */
  institutionIds: readonly string[] | undefined;
  /** Studies of other institutions shared with the caller's (a partner's second read); seen besides those. */
  sharedStudyIds?: readonly string[] | undefined;
  /** A share's viewer session: only this study, narrowed to the share's series or key images. */
  grant?: GrantFilter | undefined;
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
  /** Also return a representative instance's stored metadata (for `includefield` beyond the indexed ones). */
  withMetadata: boolean;
}

/** What a caller may see of the stored DICOM objects (the scope of a query or retrieve, without its UIDs). */
export type DicomVisibility = Pick<QidoScope, 'institutionIds' | 'sharedStudyIds' | 'grant'>;

/** What a share's viewer session sees: one study (row id), and of it only these series or images when given. */
export interface GrantFilter {
  studyId: string;
  seriesInstanceUids?: readonly string[] | undefined;
  sopInstanceUids?: readonly string[] | undefined;
}

/** Study and patient columns of an answer row, in DICOM formats (DA as YYYYMMDD, TM as HHMMSS). */
export interface StudyColumns {
  study_instance_uid: string;
  study_date: string | null;
  study_time: string | null;
  accession_number: string | null;
  study_description: string | null;
  referring_physician_name: string | null;
  study_identifier: string | null;
  patient_id: string;
  issuer_of_patient_id: string | null;
  patient_name: string | null;
  patient_birth_date: string | null;
  patient_sex: string | null;
}

export interface StudyRow extends StudyColumns {
  series_count: number;
  instance_count: number;
  modalities: string[];
  metadata: DicomJsonDataset | null;
}

export interface SeriesColumns {
  series_instance_uid: string;
  modality: string;
  series_number: number | null;
  series_description: string | null;
  series_date: string | null;
  series_time: string | null;
  body_part_examined: string | null;
}

export interface SeriesRow extends StudyColumns, SeriesColumns {
  instance_count: number;
  metadata: DicomJsonDataset | null;
}

export interface InstanceRow extends StudyColumns, SeriesColumns {
  instance_id: string;
  sop_instance_uid: string;
  sop_class_uid: string;
  transfer_syntax_uid: string;
  instance_number: number | null;
  rows: number | null;
  columns: number | null;
  bits_allocated: number | null;
  number_of_frames: number | null;
  blob_key: string;
  metadata: DicomJsonDataset | null;
}

const STUDY_COLUMNS = sql.raw(`
  st.study_instance_uid,
  to_char(st.study_date, 'YYYYMMDD') as study_date,
  to_char(st.study_time, 'HH24MISS') as study_time,
  st.accession_number, st.study_description, st.referring_physician_name, st.study_identifier,
  p.patient_id, p.issuer_of_patient_id, p.patient_name,
  to_char(p.birth_date, 'YYYYMMDD') as patient_birth_date, p.sex as patient_sex`);

const SERIES_COLUMNS = sql.raw(`
  se.series_instance_uid, se.modality, se.series_number, se.series_description,
  to_char(se.series_date, 'YYYYMMDD') as series_date,
  to_char(se.series_time, 'HH24MISS') as series_time, se.body_part_examined`);

/** The SQL column of each matching key, by tag. */
const COLUMN_BY_TAG: Readonly<Record<string, string>> = {
  '00080020': 'st.study_date',
  '00080030': 'st.study_time',
  '00080050': 'st.accession_number',
  '00080090': 'st.referring_physician_name',
  '00081030': 'st.study_description',
  '00100010': 'p.patient_name',
  '00100020': 'p.patient_id',
  '00100021': 'p.issuer_of_patient_id',
  '00100030': 'p.birth_date',
  '00100040': 'p.sex',
  '0020000D': 'st.study_instance_uid',
  '00200010': 'st.study_identifier',
  '00080021': 'se.series_date',
  '00080031': 'se.series_time',
  '00080060': 'se.modality',
  '0008103E': 'se.series_description',
  '00180015': 'se.body_part_examined',
  '0020000E': 'se.series_instance_uid',
  '00200011': 'se.series_number',
  '00080016': 'i.sop_class_uid',
  '00080018': 'i.sop_instance_uid',
  '00200013': 'i.instance_number',
};

/** A DICOM wildcard value (`*`, `?`) as a LIKE pattern; other LIKE characters are escaped. */
export function likePattern(value: string): string {
  return value
    .replace(/[\\%_]/g, (c) => `\\${c}`)
    .replace(/\*/g, '%')
    .replace(/\?/g, '_');
}

function condition(filter: QidoFilter): SQL {
  const column = sql.raw(COLUMN_BY_TAG[filter.attribute.tag]!);
  switch (filter.kind) {
    case 'uids':
      return sql`${column} in (${sql.join(
        filter.uids.map((uid) => sql`${uid}`),
        sql`, `,
      )})`;
    case 'range': {
      const parts: SQL[] = [];
      if (filter.from !== undefined) parts.push(sql`${column} >= ${filter.from}`);
      if (filter.to !== undefined) parts.push(sql`${column} <= ${filter.to}`);
      return sql.join(parts, sql` and `);
    }
    case 'integer':
      return sql`${column} = ${filter.value}`;
    case 'modalities':
      return sql`exists (select 1 from series ms where ms.study_id = st.id and ms.modality in (${sql.join(
        filter.modalities.map((m) => sql`${m}`),
        sql`, `,
      )}))`;
    case 'text': {
      const wildcard = /[*?]/.test(filter.pattern);
      if (filter.attribute.caseInsensitive) {
        return wildcard
          ? sql`${column} ilike ${likePattern(filter.pattern)}`
          : sql`lower(${column}) = lower(${filter.pattern})`;
      }
      return wildcard
        ? sql`${column} like ${likePattern(filter.pattern)}`
        : sql`${column} = ${filter.pattern}`;
    }
  }
}

/** Which of the aliases st (study), se (series) and i (instance) a query has. */
type Level = 'study' | 'series' | 'instance';

const uuidList = (ids: readonly string[]) =>
  sql.join(
    ids.map((id) => sql`${id}::uuid`),
    sql`, `,
  );
const textList = (values: readonly string[]) =>
  sql.join(
    values.map((v) => sql`${v}`),
    sql`, `,
  );

/** A share's limits: its study and, below the study level, its series or key images. */
function grantCondition(grant: GrantFilter, level: Level): SQL {
  const study = sql`st.id = ${grant.studyId}::uuid`;
  const series = grant.seriesInstanceUids ?? [];
  const images = grant.sopInstanceUids ?? [];
  if (level === 'study' || (series.length === 0 && images.length === 0)) return study;
  const parts: SQL[] = [];
  if (series.length > 0) parts.push(sql`se.series_instance_uid in (${textList(series)})`);
  if (images.length > 0) {
    parts.push(
      level === 'instance'
        ? sql`i.sop_instance_uid in (${textList(images)})`
        : sql`exists (select 1 from instances ki where ki.series_id = se.id and ki.sop_instance_uid in (${textList(images)}))`,
    );
  }
  return sql`${study} and (${sql.join(parts, sql` or `)})`;
}

function whereClause(
  filters: readonly QidoFilter[],
  scope: Pick<
    QidoScope,
    'institutionIds' | 'sharedStudyIds' | 'grant' | 'studyInstanceUid' | 'seriesInstanceUid'
  >,
  level: Level,
): SQL {
  const conditions = filters.map(condition);
  if (scope.institutionIds !== undefined) {
    const shared = scope.sharedStudyIds ?? [];
    const own =
      scope.institutionIds.length === 0
        ? sql`false`
        : sql`p.institution_id in (${uuidList(scope.institutionIds)})`;
    conditions.push(shared.length === 0 ? own : sql`(${own} or st.id in (${uuidList(shared)}))`);
  }
  if (scope.grant !== undefined) conditions.push(grantCondition(scope.grant, level));
  if (scope.studyInstanceUid !== undefined)
    conditions.push(sql`st.study_instance_uid = ${scope.studyInstanceUid}`);
  if (scope.seriesInstanceUid !== undefined) {
    conditions.push(sql`se.series_instance_uid = ${scope.seriesInstanceUid}`);
  }
  return conditions.length === 0 ? sql`true` : sql.join(conditions, sql` and `);
}

/** The stored metadata of a series' first instance (by InstanceNumber), for `includefield`. */
const representativeMetadata = (seriesAlias: string, wanted: boolean) =>
  wanted
    ? sql.raw(`(select ri.metadata from instances ri where ri.series_id = ${seriesAlias}.id
        order by ri.instance_number nulls last, ri.sop_instance_uid limit 1)`)
    : sql.raw('null::jsonb');

/** QIDO-RS Search for Studies; the newest first. Counts and modalities come from the series and instances. */
export async function searchStudies(db: Database, query: QidoQuery, scope: QidoScope): Promise<StudyRow[]> {
  // Series-level keys on a study search (ModalitiesInStudy aside) match studies holding such a series.
  const seriesFilters = query.filters.filter((f) => f.attribute.level !== 'study');
  const studyQuery = { ...query, filters: query.filters.filter((f) => f.attribute.level === 'study') };
  const seriesMatch =
    seriesFilters.length === 0
      ? sql`true`
      : sql`exists (select 1 from series se where se.study_id = st.id and ${sql.join(
          seriesFilters.map(condition),
          sql` and `,
        )})`;
  const metadata = scope.withMetadata
    ? sql`(select ${representativeMetadata('fs', true)} from series fs where fs.study_id = st.id
        order by fs.series_number nulls last, fs.series_instance_uid limit 1)`
    : sql`null::jsonb`;
  return db.execute<StudyRow & Record<string, unknown>>(sql`
    select ${STUDY_COLUMNS},
      (select count(*)::int from series cs where cs.study_id = st.id) as series_count,
      (select count(*)::int from instances ci join series cs on cs.id = ci.series_id where cs.study_id = st.id)
        as instance_count,
      coalesce((select array_agg(distinct ms.modality order by ms.modality) from series ms where ms.study_id = st.id),
        '{}') as modalities,
      ${metadata} as metadata
    from studies st join patients p on p.id = st.patient_id
    where ${whereClause(studyQuery.filters, scope, 'study')} and ${seriesMatch}
    order by st.study_date desc nulls last, st.study_time desc nulls last, st.study_instance_uid
    limit ${query.limit} offset ${query.offset}`);
}

/** QIDO-RS Search for Series, all or of one study; by study, then SeriesNumber. */
export async function searchSeries(db: Database, query: QidoQuery, scope: QidoScope): Promise<SeriesRow[]> {
  return db.execute<SeriesRow & Record<string, unknown>>(sql`
    select ${STUDY_COLUMNS}, ${SERIES_COLUMNS},
      (select count(*)::int from instances ci where ci.series_id = se.id) as instance_count,
      ${representativeMetadata('se', scope.withMetadata)} as metadata
    from series se join studies st on st.id = se.study_id join patients p on p.id = st.patient_id
    where ${whereClause(query.filters, scope, 'series')}
    order by st.study_date desc nulls last, st.study_instance_uid, se.series_number nulls last,
      se.series_instance_uid
    limit ${query.limit} offset ${query.offset}`);
}

/** QIDO-RS Search for Instances, all, of a study or of a series; by series, then InstanceNumber. */
export async function searchInstances(
  db: Database,
  query: QidoQuery,
  scope: QidoScope,
): Promise<InstanceRow[]> {
  return instanceRows(db, whereClause(query.filters, scope, 'instance'), scope.withMetadata, query);
}

/** Instance rows with their series, study and patient, in study, series and instance order. */
async function instanceRows(
  db: Database,
  where: SQL,
  withMetadata: boolean,
  page?: { limit: number; offset: number },
): Promise<InstanceRow[]> {
  return db.execute<InstanceRow & Record<string, unknown>>(sql`
    select ${STUDY_COLUMNS}, ${SERIES_COLUMNS},
      i.id as instance_id, i.sop_instance_uid, i.sop_class_uid, i.transfer_syntax_uid, i.instance_number,
      i.rows, i.columns, i.bits_allocated, i.number_of_frames, i.blob_key,
      ${withMetadata ? sql.raw('i.metadata') : sql.raw('null::jsonb')} as metadata
    from instances i join series se on se.id = i.series_id join studies st on st.id = se.study_id
      join patients p on p.id = st.patient_id
    where ${where}
    order by st.study_instance_uid, se.series_number nulls last, se.series_instance_uid,
      i.instance_number nulls last, i.sop_instance_uid
    ${page ? sql`limit ${page.limit} offset ${page.offset}` : sql``}`);
}

/** Stores an instance's metadata computed from its file (rows stored before the column existed). */
export async function saveInstanceMetadata(db: Database, instanceId: string, metadata: DicomJsonDataset) {
  await db.execute(
    sql`update instances set metadata = ${JSON.stringify(metadata)}::jsonb where id = ${instanceId}::uuid`,
  );
}

/** What WADO-RS retrieves of a study, a series or one instance, in the caller's institutions. */
export interface RetrieveTarget {
  studyInstanceUid: string;
  seriesInstanceUid?: string;
  sopInstanceUid?: string;
}

/** The instances a WADO-RS request covers, in series and instance order; [] when none is visible. */
export async function instancesToRetrieve(
  db: Database,
  target: RetrieveTarget,
  visibility: DicomVisibility,
): Promise<InstanceRow[]> {
  const where = whereClause([], { ...visibility, ...target }, 'instance');
  return instanceRows(
    db,
    target.sopInstanceUid === undefined
      ? where
      : sql`${where} and i.sop_instance_uid = ${target.sopInstanceUid}`,
    true,
  );
}
