import type { DicomJsonDataset, DicomJsonElement } from '../../dicom/dicom-json.js';
import type {
  InstanceRow,
  SeriesColumns,
  SeriesRow,
  StudyColumns,
  StudyRow,
} from '../../db/repositories/dicomweb-query.js';
import { COMPUTED_TAGS, LEVELS_ABOVE, QIDO_ATTRIBUTES, type QidoLevel } from './qido-attributes.js';
import type { QidoQuery } from './qido-query.js';
import { dicomwebUrls } from './retrieve-urls.js';

const text = (vr: string, value: string | null | undefined): DicomJsonElement =>
  value === null || value === undefined || value === '' ? { vr } : { vr, Value: [value] };
const number = (vr: string, value: number | null | undefined): DicomJsonElement =>
  value === null || value === undefined ? { vr } : { vr, Value: [value] };
const personName = (value: string | null): DicomJsonElement =>
  value === null || value === '' ? { vr: 'PN' } : { vr: 'PN', Value: [{ Alphabetic: value }] };

/** UTF-8: what nodus's JSON always is (PS3.18 F.2.3 leaves the character set to the encoding). */
const CHARACTER_SET: DicomJsonElement = { vr: 'CS', Value: ['ISO_IR 192'] };
const ONLINE: DicomJsonElement = { vr: 'CS', Value: ['ONLINE'] };

function studyAttributes(row: StudyColumns): DicomJsonDataset {
  return {
    '00080020': text('DA', row.study_date),
    '00080030': text('TM', row.study_time),
    '00080050': text('SH', row.accession_number),
    '00080090': personName(row.referring_physician_name),
    '00081030': text('LO', row.study_description),
    '00100010': personName(row.patient_name),
    '00100020': text('LO', row.patient_id),
    '00100021': text('LO', row.issuer_of_patient_id),
    '00100030': text('DA', row.patient_birth_date),
    '00100040': text('CS', row.patient_sex),
    '0020000D': text('UI', row.study_instance_uid),
    '00200010': text('SH', row.study_identifier),
  };
}

function seriesAttributes(row: SeriesColumns): DicomJsonDataset {
  return {
    '00080021': text('DA', row.series_date),
    '00080031': text('TM', row.series_time),
    '00080060': text('CS', row.modality),
    '0008103E': text('LO', row.series_description),
    '00180015': text('CS', row.body_part_examined),
    '0020000E': text('UI', row.series_instance_uid),
    '00200011': number('IS', row.series_number),
  };
}

const {
  Rows: _rows,
  Columns: _columns,
  BitsAllocated: _bitsAllocated,
  NumberOfFrames: _frames,
  ...common
} = COMPUTED_TAGS;
/** The attributes each level's answers compute (counts, URLs, image size) rather than read from metadata. */
const COMPUTED_BY_LEVEL: Readonly<Record<QidoLevel, ReadonlySet<string>>> = {
  study: new Set([...Object.values(common), '00080061']),
  series: new Set(Object.values(common)),
  instance: new Set(Object.values(COMPUTED_TAGS)),
};

/**
 * Whether a query needs instances' stored metadata: `includefield=all`, or a field that is neither one of
 * the indexed attributes of the level's entities (which every answer carries from its columns) nor computed.
 */
export function needsStoredMetadata(query: QidoQuery): boolean {
  if (query.includeFields === 'all') return true;
  const levels = LEVELS_ABOVE[query.level];
  const computed = COMPUTED_BY_LEVEL[query.level];
  return [...query.includeFields].some((tag) => {
    const indexed = QIDO_ATTRIBUTES.get(tag);
    return !computed.has(tag) && !(indexed && levels.includes(indexed.level));
  });
}

/**
 * Adds what `includefield` asks for beyond the indexed attributes, from a stored instance's metadata, and
 * for `all` every attribute of the levels the answer covers.
 */
function withIncluded(
  answer: DicomJsonDataset,
  query: QidoQuery,
  metadata: DicomJsonDataset | null,
): DicomJsonDataset {
  if (!metadata) return answer;
  const levels = LEVELS_ABOVE[query.level];
  const wanted =
    query.includeFields === 'all'
      ? Object.keys(metadata).filter((tag) => {
          const indexed = QIDO_ATTRIBUTES.get(tag);
          return query.level === 'instance' || (indexed !== undefined && levels.includes(indexed.level));
        })
      : [...query.includeFields];
  for (const tag of wanted) {
    if (answer[tag] === undefined && metadata[tag] !== undefined) answer[tag] = metadata[tag]!;
  }
  return answer;
}

/** Keys in ascending tag order, as PS3.18 F.2 recommends and most clients expect. */
function sorted(dataset: DicomJsonDataset): DicomJsonDataset {
  return Object.fromEntries(
    Object.keys(dataset)
      .sort()
      .map((tag) => [tag, dataset[tag]!]),
  );
}

export function studyAnswer(row: StudyRow, query: QidoQuery, baseUrl: string): DicomJsonDataset {
  const urls = dicomwebUrls(baseUrl);
  return sorted(
    withIncluded(
      {
        [COMPUTED_TAGS.SpecificCharacterSet]: CHARACTER_SET,
        [COMPUTED_TAGS.InstanceAvailability]: ONLINE,
        '00080061': { vr: 'CS', Value: row.modalities },
        [COMPUTED_TAGS.RetrieveURL]: text('UR', urls.study(row.study_instance_uid)),
        ...studyAttributes(row),
        [COMPUTED_TAGS.NumberOfStudyRelatedSeries]: number('IS', row.series_count),
        [COMPUTED_TAGS.NumberOfStudyRelatedInstances]: number('IS', row.instance_count),
      },
      query,
      row.metadata,
    ),
  );
}

export function seriesAnswer(
  row: SeriesRow,
  query: QidoQuery,
  baseUrl: string,
  scopedToStudy: boolean,
): DicomJsonDataset {
  const urls = dicomwebUrls(baseUrl);
  const study = studyAttributes(row);
  return sorted(
    withIncluded(
      {
        // Series of all studies also name their study (PS3.18 Table 10.6.3-4, "all series" queries).
        ...(scopedToStudy ? { '0020000D': study['0020000D']! } : study),
        [COMPUTED_TAGS.SpecificCharacterSet]: CHARACTER_SET,
        [COMPUTED_TAGS.InstanceAvailability]: ONLINE,
        [COMPUTED_TAGS.RetrieveURL]: text('UR', urls.series(row.study_instance_uid, row.series_instance_uid)),
        ...seriesAttributes(row),
        [COMPUTED_TAGS.NumberOfSeriesRelatedInstances]: number('IS', row.instance_count),
      },
      query,
      row.metadata,
    ),
  );
}

export function instanceAnswer(
  row: InstanceRow,
  query: QidoQuery,
  baseUrl: string,
  scope: Exclude<QidoLevel, 'instance'> | 'none',
): DicomJsonDataset {
  const urls = dicomwebUrls(baseUrl);
  const study = studyAttributes(row);
  const series = seriesAttributes(row);
  return sorted(
    withIncluded(
      {
        ...(scope === 'none' ? study : { '0020000D': study['0020000D']! }),
        ...(scope === 'series' ? { '0020000E': series['0020000E']! } : series),
        [COMPUTED_TAGS.SpecificCharacterSet]: CHARACTER_SET,
        '00080016': text('UI', row.sop_class_uid),
        '00080018': text('UI', row.sop_instance_uid),
        [COMPUTED_TAGS.InstanceAvailability]: ONLINE,
        [COMPUTED_TAGS.RetrieveURL]: text(
          'UR',
          urls.instance(row.study_instance_uid, row.series_instance_uid, row.sop_instance_uid),
        ),
        '00200013': number('IS', row.instance_number),
        [COMPUTED_TAGS.Rows]: number('US', row.rows),
        [COMPUTED_TAGS.Columns]: number('US', row.columns),
        [COMPUTED_TAGS.BitsAllocated]: number('US', row.bits_allocated),
        ...(row.number_of_frames !== null && {
          [COMPUTED_TAGS.NumberOfFrames]: number('IS', row.number_of_frames),
        }),
      },
      query,
      row.metadata,
    ),
  );
}
