import packageJson from '../../package.json' with { type: 'json' };
import type { Database } from '../db/client.js';
import { secondReadsOf } from '../db/repositories/second-reads.js';
import { loadSignedOffStudy, type SignedOffNoduleRecord } from '../db/repositories/signed-off-study.js';
import { DomainError } from '../shared/errors.js';
import type { BlobStore } from '../storage/blob-store.js';
import { decodeNifti1Volume } from '../volume/nifti.js';
import type { Vec3 } from '../volume/volume.js';
import {
  writeSignedOffReport,
  type SignedOffNodule,
  type SignedOffReport,
  type VolumeGeometry,
} from './signed-off-report.js';
import { sourceSeriesReferencesFromBytes } from './source-series-references.js';

/** Instances read from the blob store at once while collecting the source series' headers. */
const READ_CONCURRENCY = 16;

/** Loads a signed-off study and writes its SR and SEG; UIDs derive from the study and its review version. */
export async function buildSignedOffReport(
  deps: { db: Database; blobs: BlobStore },
  studyId: string,
): Promise<{ report: SignedOffReport; version: number }> {
  const study = await loadSignedOffStudy(deps.db, studyId);
  const secondReads = await secondReadsOf(deps.db, studyId);
  const instanceBytes: Uint8Array[] = [];
  for (let n = 0; n < study.instanceBlobKeys.length; n += READ_CONCURRENCY) {
    const batch = study.instanceBlobKeys.slice(n, n + READ_CONCURRENCY);
    instanceBytes.push(...(await Promise.all(batch.map((key) => deps.blobs.get(key)))));
  }
  const source = sourceSeriesReferencesFromBytes(instanceBytes);
  instanceBytes.length = 0;
  const volume: VolumeGeometry = {
    dimensions: study.volume.dimensions as VolumeGeometry['dimensions'],
    spacingMm: study.volume.spacingMm as VolumeGeometry['spacingMm'],
    originLps: study.volume.originLps as VolumeGeometry['originLps'],
    direction: study.volume.direction as VolumeGeometry['direction'],
  };
  const nodules = await Promise.all(study.nodules.map((n) => signedOffNodule(deps.blobs, n, volume)));
  const report = writeSignedOffReport(
    {
      source,
      volume,
      nodules,
      finalCategory: study.finalCategory,
      verification: {
        // Written as PN (Family^Given); the e-mail (its local part) only when the display name is blank.
        observerName: study.signedOffBy?.displayName.trim() || study.signedOffBy?.email || 'Unknown',
        organization: study.institutionName,
        verifiedAt: study.signedOffAt,
      },
      secondReads: secondReads.map((read) => ({
        observerName: read.reader.displayName.trim() || read.reader.email,
        organization: read.institutionName,
        verifiedAt: new Date(read.createdAt),
        category: read.category,
        agrees: read.opinion === 'agree',
        ...(read.comment && { comment: read.comment }),
      })),
      // A second read makes a new version of the report (new UIDs); without one the key is as it always was.
      reportKey: `${studyId}:${study.version}${secondReads.length > 0 ? `:second-reads:${secondReads.length}` : ''}`,
    },
    { algorithmName: 'nodus', algorithmVersion: packageJson.version },
  );
  return { report, version: study.version };
}

/** A reviewed nodule with its AI mask read back from the blob store (a NIfTI-1 over its bounding box). */
async function signedOffNodule(
  blobs: BlobStore,
  nodule: SignedOffNoduleRecord,
  volume: VolumeGeometry,
): Promise<SignedOffNodule> {
  const measured: SignedOffNodule = {
    id: nodule.noduleId,
    centreLps: nodule.centreLps as Vec3,
    longAxisMm: nodule.longAxisMm,
    shortAxisMm: nodule.shortAxisMm,
    axesLps: nodule.axesLps,
    meanDiameterMm: nodule.meanDiameterMm,
    type: nodule.type,
    volumeMm3: nodule.volumeMm3 ?? undefined,
    solidComponentMm: nodule.solidComponentMm ?? undefined,
    meanHu: nodule.ai?.meanHu,
    score: nodule.ai?.score,
  };
  if (!nodule.ai?.maskBlobKey) return measured;
  const box = nodule.ai.boundingBoxIjk as [number, number, number, number, number, number];
  const mask = decodeNifti1Volume(await blobs.get(nodule.ai.maskBlobKey), volume);
  const expected = [box[3] - box[0] + 1, box[4] - box[1] + 1, box[5] - box[2] + 1];
  if (mask.dimensions.some((d, a) => d !== expected[a])) {
    throw new DomainError(
      'INTERNAL',
      `the mask of nodule ${nodule.noduleId} is ${mask.dimensions.join('x')}, its box ${expected.join('x')}`,
    );
  }
  return { ...measured, mask: { boxIjk: box, data: Uint8Array.from(mask.hu, (v) => (v !== 0 ? 1 : 0)) } };
}
