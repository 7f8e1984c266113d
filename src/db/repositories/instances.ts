import { eq, sql } from 'drizzle-orm';
import type { InstanceHeader } from '../../dicom/read-instance.js';
import type { Database } from '../client.js';
import { instances, institutions, patients, series, studies } from '../schema/index.js';

export interface StoredFile {
  blobKey: string;
  sha256: string;
  sizeBytes: number;
  source: string;
}

export type RegisterOutcome =
  /** A new instance row was written. */
  | { outcome: 'stored'; instanceId: string }
  /** The same SOPInstanceUID with the same bytes was already stored: nothing changed. */
  | { outcome: 'duplicate'; instanceId: string }
  /** The same SOPInstanceUID with different bytes: the stored instance is kept, the new one is not registered. */
  | { outcome: 'conflict'; instanceId: string; storedSha256: string };

const UNKNOWN_INSTITUTION = 'UNKNOWN';

/** Institution code derived from InstitutionName: upper case, alphanumerics and dashes. */
export function institutionCode(name: string | undefined): string {
  const code = (name ?? '')
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
  return code === '' ? UNKNOWN_INSTITUTION : code.slice(0, 64);
}

/**
 * Registers one instance and the patient, study and series it belongs to, in one transaction.
 * Idempotent: upserts keyed by DICOM UIDs; a repeated instance is reported as duplicate or conflict.
 */
export async function registerInstance(
  db: Database,
  header: InstanceHeader,
  file: StoredFile,
): Promise<RegisterOutcome> {
  return db.transaction(async (tx) => {
    const code = institutionCode(header.institutionName);
    const [institution] = await tx
      .insert(institutions)
      .values({ code, name: header.institutionName ?? 'Unknown institution' })
      .onConflictDoUpdate({ target: institutions.code, set: { code: sql`excluded.code` } })
      .returning({ id: institutions.id });

    const [patient] = await tx
      .insert(patients)
      .values({
        institutionId: institution!.id,
        patientId: header.patientId,
        issuerOfPatientId: header.issuerOfPatientId,
        patientName: header.patientName,
        birthDate: header.patientBirthDate,
        sex: header.patientSex,
      })
      .onConflictDoUpdate({
        target: [patients.institutionId, patients.patientId],
        set: { patientId: sql`excluded.patient_id` },
      })
      .returning({ id: patients.id });

    const [study] = await tx
      .insert(studies)
      .values({
        patientId: patient!.id,
        studyInstanceUid: header.studyInstanceUid,
        accessionNumber: header.accessionNumber,
        studyDate: header.studyDate,
        studyTime: header.studyTime,
        studyDescription: header.studyDescription,
        referringPhysicianName: header.referringPhysicianName,
      })
      .onConflictDoUpdate({
        target: studies.studyInstanceUid,
        set: { studyInstanceUid: sql`excluded.study_instance_uid` },
      })
      .returning({ id: studies.id });

    const [seriesRow] = await tx
      .insert(series)
      .values({
        studyId: study!.id,
        seriesInstanceUid: header.seriesInstanceUid,
        modality: header.modality,
        seriesNumber: header.seriesNumber,
        seriesDescription: header.seriesDescription,
        bodyPartExamined: header.bodyPartExamined,
        manufacturer: header.manufacturer,
        manufacturerModelName: header.manufacturerModelName,
        institutionName: header.institutionName,
        convolutionKernel: header.convolutionKernel,
        sliceThicknessMm: header.sliceThicknessMm,
        kvp: header.kvp,
      })
      .onConflictDoUpdate({
        target: series.seriesInstanceUid,
        set: { seriesInstanceUid: sql`excluded.series_instance_uid` },
      })
      .returning({ id: series.id });

    const inserted = await tx
      .insert(instances)
      .values({
        seriesId: seriesRow!.id,
        sopInstanceUid: header.sopInstanceUid,
        sopClassUid: header.sopClassUid,
        transferSyntaxUid: header.transferSyntaxUid,
        instanceNumber: header.instanceNumber,
        imagePositionPatient: header.imagePositionPatient,
        ...file,
      })
      .onConflictDoNothing({ target: instances.sopInstanceUid })
      .returning({ id: instances.id });

    if (inserted[0]) {
      await tx
        .update(series)
        .set({ instanceCount: sql`${series.instanceCount} + 1` })
        .where(eq(series.id, seriesRow!.id));
      return { outcome: 'stored', instanceId: inserted[0].id };
    }
    const [existing] = await tx
      .select({ id: instances.id, sha256: instances.sha256 })
      .from(instances)
      .where(eq(instances.sopInstanceUid, header.sopInstanceUid));
    if (existing!.sha256 === file.sha256) return { outcome: 'duplicate', instanceId: existing!.id };
    return { outcome: 'conflict', instanceId: existing!.id, storedSha256: existing!.sha256 };
  });
}

/** Blob keys of a series' instances, in a stable order (reconstruction sorts by geometry itself). */
export async function listSeriesInstanceBlobs(
  db: Database,
  seriesInstanceUid: string,
): Promise<{ sopInstanceUid: string; blobKey: string }[]> {
  return db
    .select({ sopInstanceUid: instances.sopInstanceUid, blobKey: instances.blobKey })
    .from(instances)
    .innerJoin(series, eq(instances.seriesId, series.id))
    .where(eq(series.seriesInstanceUid, seriesInstanceUid))
    .orderBy(instances.sopInstanceUid);
}

/** Blob key of the stored (canonical) object of an instance. */
export async function findInstanceBlobKey(db: Database, sopInstanceUid: string): Promise<string | undefined> {
  const [row] = await db
    .select({ blobKey: instances.blobKey })
    .from(instances)
    .where(eq(instances.sopInstanceUid, sopInstanceUid));
  return row?.blobKey;
}
