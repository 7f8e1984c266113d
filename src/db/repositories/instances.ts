import { eq, or, sql } from 'drizzle-orm';
import type { DicomJsonDataset } from '../../dicom/dicom-json.js';
import type { InstanceHeader } from '../../dicom/read-instance.js';
import type { Database } from '../client.js';
import { instances, institutions, patients, quarantinedInstances, series, studies } from '../schema/index.js';

export interface StoredFile {
  blobKey: string;
  sha256: string;
  /** See src/dicom/content-digest.ts: equal for the same instance in another encoding. */
  contentDigest: string;
  sizeBytes: number;
  source: string;
  /** The data set as DICOM JSON without pixel data (WADO-RS metadata, QIDO-RS includefield). */
  metadata?: DicomJsonDataset;
}

/**
 * Which institutions a sender may store into (src/ingest/ingest-sender.ts):
 * - `any`: the InstitutionName (0008,0080) decides, a new institution is created for a new name
 *   (administrators, the local import);
 * - `fixed`: every instance goes to this institution whatever its InstitutionName (a configured DICOM AE);
 * - `one-of`: the InstitutionName must name one of these institutions; without an InstitutionName the only
 *   one, when there is one (a user's STOW-RS token).
 */
export type InstitutionBinding =
  | { kind: 'any' }
  | { kind: 'fixed'; institutionId: string }
  | { kind: 'one-of'; institutionIds: readonly string[] };

export type RegisterOutcome =
  /** A new instance row was written. */
  | { outcome: 'stored'; instanceId: string; seriesId: string }
  /** The same SOPInstanceUID with the same content was already stored: nothing changed. */
  | { outcome: 'duplicate'; instanceId: string; seriesId: string }
  /** The same SOPInstanceUID with other content: the stored instance is kept, the new one is not registered. */
  | { outcome: 'conflict'; instanceId: string; storedSha256: string; institutionId: string }
  /**
   * The instance, its series or its study already belongs to an institution the sender may not store into:
   * nothing registered (the caller must answer as for a new instance, revealing nothing).
   */
  | { outcome: 'foreign'; institutionId: string }
  /** The InstitutionName names no institution the sender may store into. */
  | { outcome: 'not-authorized'; institutionName: string | undefined };

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
 * process), in the institution its sender's binding gives. Idempotent: keyed by DICOM UIDs; a repeated
 * instance is reported as duplicate (same content digest) or conflict. An instance, series or study that
 * already belongs to an institution outside a restricted binding is `foreign` and never joins it. The
 * instance row is one INSERT, so a crash leaves either the whole row or nothing.
 */
export async function registerInstance(
  db: Database,
  header: InstanceHeader,
  file: StoredFile,
  binding: InstitutionBinding,
  /** Writes the file under `file.blobKey` durably; called only when the instance is new. */
  writeBlob: () => Promise<void>,
): Promise<RegisterOutcome> {
  const institution = await institutionFor(db, header, binding);
  if (institution === undefined)
    return { outcome: 'not-authorized', institutionName: header.institutionName };
  const owner = await seriesFor(db, header, institution.id, binding.kind !== 'any');
  if (owner === 'foreign') return { outcome: 'foreign', institutionId: institution.id };
  // The row and the blob are written together: the blob only for a new row, inside its transaction, so a
  // repeat or a conflict writes nothing and a row is never visible before its blob is durable.
  const inserted = await db.transaction(async (tx) => {
    const rows = await tx
      .insert(instances)
      .values({
        seriesId: owner.seriesId,
        sopInstanceUid: header.sopInstanceUid,
        sopClassUid: header.sopClassUid,
        transferSyntaxUid: header.transferSyntaxUid,
        instanceNumber: header.instanceNumber,
        imagePositionPatient: header.imagePositionPatient,
        rows: header.rows,
        columns: header.columns,
        bitsAllocated: header.bitsAllocated,
        numberOfFrames: header.numberOfFrames,
        ...file,
      })
      .onConflictDoNothing({ target: instances.sopInstanceUid })
      .returning({ id: instances.id });
    if (rows[0]) await writeBlob();
    return rows;
  });
  if (inserted[0]) return { outcome: 'stored', instanceId: inserted[0].id, seriesId: owner.seriesId };
  const [existing] = await db
    .select({
      id: instances.id,
      seriesId: instances.seriesId,
      sha256: instances.sha256,
      contentDigest: instances.contentDigest,
      institutionId: patients.institutionId,
    })
    .from(instances)
    .innerJoin(series, eq(series.id, instances.seriesId))
    .innerJoin(studies, eq(studies.id, series.studyId))
    .innerJoin(patients, eq(patients.id, studies.patientId))
    .where(eq(instances.sopInstanceUid, header.sopInstanceUid));
  if (binding.kind !== 'any' && existing!.institutionId !== institution.id) {
    return { outcome: 'foreign', institutionId: institution.id };
  }
  const same =
    existing!.contentDigest === null
      ? existing!.sha256 === file.sha256
      : existing!.contentDigest === file.contentDigest;
  if (same) {
    return { outcome: 'duplicate', instanceId: existing!.id, seriesId: existing!.seriesId };
  }
  return {
    outcome: 'conflict',
    instanceId: existing!.id,
    storedSha256: existing!.sha256,
    institutionId: existing!.institutionId,
  };
}

interface ResolvedInstitution {
  id: string;
}
/** The institution an instance goes to under a binding; undefined when the binding allows none. */
async function institutionFor(
  db: Database,
  header: InstanceHeader,
  binding: InstitutionBinding,
): Promise<ResolvedInstitution | undefined> {
  switch (binding.kind) {
    case 'fixed':
      return { id: binding.institutionId };
    case 'any': {
      const code = institutionCode(header.institutionName);
      const [institution] = await db
        .insert(institutions)
        .values({ code, name: header.institutionName ?? 'Unknown institution' })
        .onConflictDoUpdate({ target: institutions.code, set: { code: sql`excluded.code` } })
        .returning({ id: institutions.id });
      return { id: institution!.id };
    }
    case 'one-of': {
      if (header.institutionName === undefined) {
        return binding.institutionIds.length === 1 ? { id: binding.institutionIds[0]! } : undefined;
      }
      const [named] = await db
        .select({ id: institutions.id })
        .from(institutions)
        .where(eq(institutions.code, institutionCode(header.institutionName)));
      return named && binding.institutionIds.includes(named.id) ? { id: named.id } : undefined;
    }
  }
}

interface SeriesOwner {
  seriesId: string;
  /** The institution of the patient the series' study belongs to. */
  institutionId: string;
}

/**
 * Series rows already registered by this process, per database handle, with their owner: the patient,
 * study and series upserts run once per series, not once per instance (ingest speed). Bounded; ids and
 * owners never change.
 */
const knownSeries = new WeakMap<Database, Map<string, SeriesOwner>>();
const KNOWN_SERIES_LIMIT = 10_000;

/**
 * The series of an instance (registered if new); `foreign` when `restricted` and the series or its study
 * already belongs to another institution than `institutionId`.
 */
async function seriesFor(
  db: Database,
  header: InstanceHeader,
  institutionId: string,
  restricted: boolean,
): Promise<SeriesOwner | 'foreign'> {
  let cache = knownSeries.get(db);
  if (!cache) knownSeries.set(db, (cache = new Map<string, SeriesOwner>()));
  const cached = cache.get(header.seriesInstanceUid);
  if (cached) return restricted && cached.institutionId !== institutionId ? 'foreign' : cached;
  const owner = await upsertSeriesHierarchy(db, header, institutionId, restricted);
  if (owner === 'foreign') return owner;
  if (cache.size >= KNOWN_SERIES_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(header.seriesInstanceUid, owner);
  return restricted && owner.institutionId !== institutionId ? 'foreign' : owner;
}

/**
 * Upserts the patient, study and series of an instance in one transaction, the patient in `institutionId`.
 * A study or series that already exists is left as it is: the result names its owner, which may be another
 * institution; when `restricted`, a study or series of another institution adds nothing and is `foreign`.
 */
async function upsertSeriesHierarchy(
  db: Database,
  header: InstanceHeader,
  institutionId: string,
  restricted: boolean,
): Promise<SeriesOwner | 'foreign'> {
  return db.transaction(async (tx) => {
    if (restricted) {
      const owners = await tx
        .select({ institutionId: patients.institutionId })
        .from(studies)
        .innerJoin(patients, eq(patients.id, studies.patientId))
        .leftJoin(series, eq(series.studyId, studies.id))
        .where(
          or(
            eq(studies.studyInstanceUid, header.studyInstanceUid),
            eq(series.seriesInstanceUid, header.seriesInstanceUid),
          ),
        );
      if (owners.some((owner) => owner.institutionId !== institutionId)) return 'foreign';
    }
    const [patient] = await tx
      .insert(patients)
      .values({
        institutionId,
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
        studyIdentifier: header.studyIdentifier,
      })
      .onConflictDoUpdate({
        target: studies.studyInstanceUid,
        set: { studyInstanceUid: sql`excluded.study_instance_uid` },
      })
      .returning({ id: studies.id, patientId: studies.patientId });

    const [seriesRow] = await tx
      .insert(series)
      .values({
        studyId: study!.id,
        seriesInstanceUid: header.seriesInstanceUid,
        modality: header.modality,
        seriesNumber: header.seriesNumber,
        seriesDescription: header.seriesDescription,
        seriesDate: header.seriesDate,
        seriesTime: header.seriesTime,
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

    const [owner] = await tx
      .select({ institutionId: patients.institutionId })
      .from(series)
      .innerJoin(studies, eq(studies.id, series.studyId))
      .innerJoin(patients, eq(patients.id, studies.patientId))
      .where(eq(series.id, seriesRow!.id));
    return { seriesId: seriesRow!.id, institutionId: owner!.institutionId };
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

/**
 * Blob keys under a blob-store folder that rows refer to: `instances/<study>/<series>` (instance rows) or
 * `quarantine` (kept-aside copies). For the litter sweep.
 */
export async function referencedBlobKeys(db: Database, prefix: string): Promise<Set<string>> {
  if (prefix === 'quarantine') {
    const rows = await db.select({ blobKey: quarantinedInstances.blobKey }).from(quarantinedInstances);
    return new Set(rows.map((row) => row.blobKey));
  }
  const seriesInstanceUid = prefix.split('/')[2] ?? '';
  const rows = await db
    .select({ blobKey: instances.blobKey })
    .from(instances)
    .innerJoin(series, eq(series.id, instances.seriesId))
    .where(eq(series.seriesInstanceUid, seriesInstanceUid));
  return new Set(rows.map((row) => row.blobKey));
}
