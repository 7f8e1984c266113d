import { eq, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { secondReadsOf } from '../db/repositories/second-reads.js';
import { loadSignedOffStudy } from '../db/repositories/signed-off-study.js';
import { institutions, patients, studies } from '../db/schema/index.js';
import { DomainError } from '../shared/errors.js';
import type { LungRadsCategory } from '../shared/lung-rads-category.js';
import type { NoduleType } from '../phantom/nodule-type.js';
import type { ShareGrant } from './share-scope.js';

/** The patient's film as their phone shows it: who, what, the signed report in plain terms and the images. */
export interface FilmView {
  film: {
    shareId: string;
    /** When this viewer session ends. */
    expiresAt: string;
    /** When the link itself expires. */
    linkExpiresAt: string;
    allowDownload: boolean;
    canPassOn: boolean;
  };
  patient: { name: string | null; birthDate: string | null; sex: string | null };
  study: {
    studyInstanceUid: string;
    date: string | null;
    description: string | null;
    institution: string;
  };
  /** Null until a radiologist signs the study off: a patient never sees unreviewed AI findings. */
  report: FilmReport | null;
  /** The series the share covers, each with its images in slice order (head first). */
  series: FilmSeries[];
}

export interface FilmReport {
  signedOffAt: string;
  category: LungRadsCategory;
  /** Months to the next screening low-dose CT; null when the next step is not a scheduled LDCT. */
  followUpMonths: number | null;
  signedOffBy: string | null;
  nodules: {
    number: number;
    type: NoduleType;
    longAxisMm: number;
    shortAxisMm: number;
    meanDiameterMm: number;
    /** The image through the nodule's centre, when the share covers it. */
    keyImage: { seriesInstanceUid: string; sopInstanceUid: string } | null;
  }[];
  secondReads: {
    institution: string;
    opinion: 'agree' | 'disagree';
    category: LungRadsCategory;
    at: string;
  }[];
}

export interface FilmSeries {
  seriesInstanceUid: string;
  description: string | null;
  modality: string | null;
  sopInstanceUids: string[];
}

/**
 * Lung-RADS v2022 management by category, as months to the next LDCT (the patient's "next scan"): 1 and 2
 * annual, 3 six months, 4A three months; 0, 4B and 4X are not a scheduled LDCT (comparison, further imaging or
 * work-up).
 */
const FOLLOW_UP_MONTHS: Record<LungRadsCategory, number | null> = {
  '0': null,
  '1': 12,
  '2': 12,
  '3': 6,
  '4A': 3,
  '4B': null,
  '4X': null,
};

interface ImageRow {
  series_instance_uid: string;
  series_description: string | null;
  modality: string | null;
  sop_instance_uid: string;
  /** Position along the slice normal (z of ImagePositionPatient for axial CT), mm; null when unknown. */
  z: number | null;
  [key: string]: unknown;
}

/** The film a share's viewer session sees; NOT_FOUND when the share covers no image (nothing to show). */
export async function filmView(db: Database, grant: ShareGrant): Promise<FilmView> {
  const [head] = await db
    .select({
      studyInstanceUid: studies.studyInstanceUid,
      studyDate: studies.studyDate,
      description: studies.studyDescription,
      patientName: patients.patientName,
      birthDate: patients.birthDate,
      sex: patients.sex,
      institution: institutions.name,
    })
    .from(studies)
    .innerJoin(patients, eq(patients.id, studies.patientId))
    .innerJoin(institutions, eq(institutions.id, patients.institutionId))
    .where(eq(studies.id, grant.studyId));
  if (!head) throw new DomainError('NOT_FOUND', 'the shared study is no longer held');

  const images = await coveredImages(db, grant);
  const series = new Map<string, FilmSeries>();
  for (const row of images) {
    let entry = series.get(row.series_instance_uid);
    if (!entry) {
      entry = {
        seriesInstanceUid: row.series_instance_uid,
        description: row.series_description,
        modality: row.modality,
        sopInstanceUids: [],
      };
      series.set(row.series_instance_uid, entry);
    }
    entry.sopInstanceUids.push(row.sop_instance_uid);
  }

  return {
    film: {
      shareId: grant.shareId,
      expiresAt: grant.expiresAt.toISOString(),
      linkExpiresAt: grant.linkExpiresAt.toISOString(),
      allowDownload: grant.allowDownload,
      canPassOn: grant.canPassOn,
    },
    patient: { name: head.patientName, birthDate: head.birthDate, sex: head.sex },
    study: {
      studyInstanceUid: head.studyInstanceUid,
      date: head.studyDate,
      description: head.description,
      institution: head.institution,
    },
    report: await signedReport(db, grant.studyId, images),
    // Images only: the study's SR and SEG objects are the report, shown above in words.
    series: [...series.values()].filter((s) => s.modality !== 'SR' && s.modality !== 'SEG'),
  };
}

/** The images a grant covers, series by series (SeriesNumber), each head first (descending z). */
async function coveredImages(db: Database, grant: ShareGrant): Promise<ImageRow[]> {
  const seriesUids = grant.scope?.seriesInstanceUids ?? [];
  const imageUids = grant.scope?.sopInstanceUids ?? [];
  const scoped = seriesUids.length > 0 || imageUids.length > 0;
  const list = (values: string[]) =>
    values.length === 0
      ? sql`null`
      : sql.join(
          values.map((v) => sql`${v}`),
          sql`, `,
        );
  return db.execute<ImageRow>(sql`
    select se.series_instance_uid, se.series_description, se.modality, i.sop_instance_uid,
      (i.metadata->'00200032'->'Value'->>2)::float8 as z
    from instances i join series se on se.id = i.series_id
    where se.study_id = ${grant.studyId}::uuid
      ${scoped ? sql`and (se.series_instance_uid in (${list(seriesUids)}) or i.sop_instance_uid in (${list(imageUids)}))` : sql``}
    order by se.series_number nulls last, se.series_instance_uid,
      (i.metadata->'00200032'->'Value'->>2)::float8 desc nulls last, i.instance_number nulls last,
      i.sop_instance_uid`);
}

/** The signed-off report in the patient's terms, or null while the study is not signed off. */
async function signedReport(db: Database, studyId: string, images: ImageRow[]): Promise<FilmReport | null> {
  let signed;
  try {
    signed = await loadSignedOffStudy(db, studyId);
  } catch (error) {
    if (error instanceof DomainError && (error.code === 'CONFLICT' || error.code === 'NOT_FOUND'))
      return null;
    throw error;
  }
  const onSeries = images.filter(
    (r) => r.series_instance_uid === signed.series.seriesInstanceUid && r.z !== null,
  );
  const keyImage = (centreLps: number[]) => {
    let best: ImageRow | undefined;
    for (const row of onSeries) {
      if (!best || Math.abs(row.z! - centreLps[2]!) < Math.abs(best.z! - centreLps[2]!)) best = row;
    }
    return best
      ? { seriesInstanceUid: best.series_instance_uid, sopInstanceUid: best.sop_instance_uid }
      : null;
  };
  const reads = await secondReadsOf(db, studyId);
  return {
    signedOffAt: signed.signedOffAt.toISOString(),
    category: signed.finalCategory,
    followUpMonths: FOLLOW_UP_MONTHS[signed.finalCategory],
    signedOffBy: signed.signedOffBy?.displayName ?? null,
    nodules: signed.nodules.map((n, index) => ({
      number: index + 1,
      type: n.type,
      longAxisMm: round1(n.longAxisMm),
      shortAxisMm: round1(n.shortAxisMm),
      meanDiameterMm: round1(n.meanDiameterMm),
      keyImage: keyImage(n.centreLps),
    })),
    secondReads: reads.map((r) => ({
      institution: r.institutionName,
      opinion: r.opinion,
      category: r.category,
      at: r.createdAt,
    })),
  };
}

const round1 = (value: number) => Math.round(value * 10) / 10;
