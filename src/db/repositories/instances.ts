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
 * Registers one instance, after the patient, study and series it belongs to (upserted once per series per
 * process). Idempotent: keyed by DICOM UIDs; a repeated instance is reported as duplicate or conflict.
 * The instance row is one INSERT, so a crash leaves either the whole row or nothing.
 */
export async function registerInstance(
  db: Database,
  header: InstanceHeader,
  file: StoredFile,
): Promise<RegisterOutcome> {
  const seriesId = await seriesIdFor(db, header);
  const inserted = await db
    .insert(instances)
    .values({
      seriesId,
      sopInstanceUid: header.sopInstanceUid,
      sopClassUid: header.sopClassUid,
      transferSyntaxUid: header.transferSyntaxUid,
      instanceNumber: header.instanceNumber,
      imagePositionPatient: header.imagePositionPatient,
      ...file,
    })
    .onConflictDoNothing({ target: instances.sopInstanceUid })
    .returning({ id: instances.id });
  if (inserted[0]) return { outcome: 'stored', instanceId: inserted[0].id };
  const [existing] = await db
    .select({ id: instances.id, sha256: instances.sha256 })
    .from(instances)
    .where(eq(instances.sopInstanceUid, header.sopInstanceUid));
  if (existing!.sha256 === file.sha256) return { outcome: 'duplicate', instanceId: existing!.id };
  return { outcome: 'conflict', instanceId: existing!.id, storedSha256: existing!.sha256 };
}

/**
 * Series row ids already registered by this process, per database handle: the institution, patient, study
 * and series upserts run once per series, not once per instance (ingest speed). Bounded; ids never change.
 */
const knownSeries = new WeakMap<Database, Map<string, string>>();
const KNOWN_SERIES_LIMIT = 10_000;

async function seriesIdFor(db: Database, header: InstanceHeader): Promise<string> {
  let cache = knownSeries.get(db);
  if (!cache) knownSeries.set(db, (cache = new Map<string, string>()));
  const cached = cache.get(header.seriesInstanceUid);
  if (cached) return cached;
  const id = await upsertSeriesHierarchy(db, header);
  if (cache.size >= KNOWN_SERIES_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(header.seriesInstanceUid, id);
  return id;
}

/** Upserts the institution, patient, study and series of an instance in one transaction; returns the series id. */
async function upsertSeriesHierarchy(db: Database, header: InstanceHeader): Promise<string> {
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

    return seriesRow!.id;
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
