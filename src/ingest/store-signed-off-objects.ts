import type { Database } from '../db/client.js';
import { registerInstance } from '../db/repositories/instances.js';
import { markSeriesDone } from '../db/repositories/series.js';
import { studyAccess } from '../db/repositories/study-detail.js';
import { dicomJsonFromPart10 } from '../dicom/dicom-json.js';
import { readInstanceHeader } from '../dicom/read-instance.js';
import { buildSignedOffReport } from '../dicom/signed-off-study-objects.js';
import { DomainError } from '../shared/errors.js';
import type { BlobStore } from '../storage/blob-store.js';
import { datasetSha256, instanceBlobKey } from './store-instance.js';

/**
 * Stores a signed-off study's SR and SEG as instances of their study (their own series, in the study's
 * institution), so DICOMweb, C-FIND and viewers list them with the images. Idempotent: the objects' UIDs
 * derive from the study and review version, so a repeat finds them stored. Returns the SOP instance UIDs.
 */
export async function storeSignedOffObjects(
  deps: { db: Database; blobs: BlobStore },
  studyId: string,
): Promise<string[]> {
  const { report } = await buildSignedOffReport(deps, studyId);
  const institutionId = await studyInstitution(deps.db, studyId);
  const stored: string[] = [];
  for (const object of [report.sr, report.seg]) {
    if (object) stored.push(await storeDerivedObject(deps, institutionId, object.bytes));
  }
  return stored;
}

/**
 * Stores a DICOM object nodus wrote (an SR or SEG of a study it holds) in its own series, in the institution
 * given; the series is complete as written, so nothing processes it. Returns its SOP Instance UID; a repeat
 * finds it stored.
 */
export async function storeDerivedObject(
  deps: { db: Database; blobs: BlobStore },
  institutionId: string,
  bytes: Uint8Array,
  source = 'nodus:signed-off-report',
): Promise<string> {
  const header = readInstanceHeader(bytes);
  const sha256 = datasetSha256(bytes);
  const blobKey = instanceBlobKey(header, sha256);
  const outcome = await registerInstance(
    deps.db,
    header,
    {
      blobKey,
      sha256,
      // Written by nodus itself: the same data set bytes are the same content.
      contentDigest: sha256,
      sizeBytes: bytes.byteLength,
      source,
      metadata: dicomJsonFromPart10(bytes),
    },
    { kind: 'fixed', institutionId },
    () => deps.blobs.put(blobKey, bytes),
  );
  if (outcome.outcome !== 'stored' && outcome.outcome !== 'duplicate') {
    throw new DomainError(
      'CONFLICT',
      `the report object ${header.sopInstanceUid} could not be stored (${outcome.outcome})`,
    );
  }
  await markSeriesDone(deps.db, outcome.seriesId);
  return header.sopInstanceUid;
}

async function studyInstitution(db: Database, studyId: string): Promise<string> {
  const access = await studyAccess(db, studyId);
  if (!access) throw new DomainError('NOT_FOUND', `study ${studyId} is unknown`);
  return access.institutionId;
}
