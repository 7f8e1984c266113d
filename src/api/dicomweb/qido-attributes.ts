/**
 * The attributes nodus matches on and returns in QIDO-RS answers (PS3.18 §10.6, Tables 10.6.1-5 and
 * 10.6.3-3 to 10.6.3-5), each with the database column it comes from. Tags are 8 upper-case hex digits.
 */
export type QidoLevel = 'study' | 'series' | 'instance';

/** How a matching key's value is matched (PS3.4 C.2.2.2). */
export type MatchKind =
  /** Single value or wildcard (`*`, `?`) matching; case-insensitive where `caseInsensitive`. */
  | 'text'
  /** A list of UIDs separated by `\` or `,`. */
  | 'uids'
  /** A date (YYYYMMDD) or a range (`A-B`, `A-`, `-B`). */
  | 'date'
  /** A time (HHMMSS, trailing parts optional) or a range. */
  | 'time'
  /** An integer (IS). */
  | 'integer'
  /** ModalitiesInStudy: any series of the study has one of the listed modalities. */
  | 'modalities';

export interface QidoAttribute {
  tag: string;
  keyword: string;
  vr: string;
  /** The level whose entity holds the attribute. */
  level: QidoLevel;
  match: MatchKind;
  caseInsensitive?: boolean;
}

const attribute = (
  tag: string,
  keyword: string,
  vr: string,
  level: QidoLevel,
  match: MatchKind,
  caseInsensitive = false,
): QidoAttribute => ({ tag, keyword, vr, level, match, ...(caseInsensitive && { caseInsensitive }) });

/** Every attribute nodus indexes in PostgreSQL, by tag. */
export const QIDO_ATTRIBUTES: ReadonlyMap<string, QidoAttribute> = new Map(
  [
    attribute('00080020', 'StudyDate', 'DA', 'study', 'date'),
    attribute('00080030', 'StudyTime', 'TM', 'study', 'time'),
    attribute('00080050', 'AccessionNumber', 'SH', 'study', 'text'),
    attribute('00080061', 'ModalitiesInStudy', 'CS', 'study', 'modalities'),
    attribute('00080090', 'ReferringPhysicianName', 'PN', 'study', 'text', true),
    attribute('00081030', 'StudyDescription', 'LO', 'study', 'text', true),
    attribute('00100010', 'PatientName', 'PN', 'study', 'text', true),
    attribute('00100020', 'PatientID', 'LO', 'study', 'text'),
    attribute('00100021', 'IssuerOfPatientID', 'LO', 'study', 'text'),
    attribute('00100030', 'PatientBirthDate', 'DA', 'study', 'date'),
    attribute('00100040', 'PatientSex', 'CS', 'study', 'text'),
    attribute('0020000D', 'StudyInstanceUID', 'UI', 'study', 'uids'),
    attribute('00200010', 'StudyID', 'SH', 'study', 'text'),
    attribute('00080021', 'SeriesDate', 'DA', 'series', 'date'),
    attribute('00080031', 'SeriesTime', 'TM', 'series', 'time'),
    attribute('00080060', 'Modality', 'CS', 'series', 'text'),
    attribute('0008103E', 'SeriesDescription', 'LO', 'series', 'text', true),
    attribute('00180015', 'BodyPartExamined', 'CS', 'series', 'text'),
    attribute('0020000E', 'SeriesInstanceUID', 'UI', 'series', 'uids'),
    attribute('00200011', 'SeriesNumber', 'IS', 'series', 'integer'),
    attribute('00080016', 'SOPClassUID', 'UI', 'instance', 'uids'),
    attribute('00080018', 'SOPInstanceUID', 'UI', 'instance', 'uids'),
    attribute('00200013', 'InstanceNumber', 'IS', 'instance', 'integer'),
  ].map((a) => [a.tag, a]),
);

/** Attributes computed per answer, not stored: counts, availability, the retrieve URL. */
export const COMPUTED_TAGS = {
  SpecificCharacterSet: '00080005',
  InstanceAvailability: '00080056',
  RetrieveURL: '00081190',
  NumberOfStudyRelatedSeries: '00201206',
  NumberOfStudyRelatedInstances: '00201208',
  NumberOfSeriesRelatedInstances: '00201209',
  Rows: '00280010',
  Columns: '00280011',
  BitsAllocated: '00280100',
  NumberOfFrames: '00280008',
} as const;

/** Levels a level's answers include attributes of: an instance answer also names its series and study. */
export const LEVELS_ABOVE: Readonly<Record<QidoLevel, readonly QidoLevel[]>> = {
  study: ['study'],
  series: ['study', 'series'],
  instance: ['study', 'series', 'instance'],
};
