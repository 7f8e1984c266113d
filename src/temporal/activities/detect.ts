import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import type { Database } from '../../db/client.js';
import { storeInferenceRun, type FindingRecord } from '../../db/repositories/findings.js';
import { setSeriesStatus } from '../../db/repositories/series.js';
import { volumeByBlobKey } from '../../db/repositories/volumes.js';
import { detectNodules, type DetectedNodule } from '../../inference/detect-nodules.js';
import { detectorIdentity, type LoadedDetector } from '../../inference/model-registry.js';
import { DomainError } from '../../shared/errors.js';
import type { BlobStore } from '../../storage/blob-store.js';
import { decodeNifti1Volume, encodeNifti1 } from '../../volume/nifti.js';
import type { CtVolume } from '../../volume/volume.js';

export interface DetectActivityDeps {
  db: Database;
  blobs: BlobStore;
  /** The detector of this worker process: its ONNX sessions are created once, at start. */
  detector?: LoadedDetector;
  /** Voxels per inference call (memory budget); see runHeatmap. */
  maxTileVoxels?: number;
}

export interface DetectionOutcome {
  runId: string;
  findings: number;
  /** False when the same model had already run on the same volume with the same parameters. */
  created: boolean;
}

export function createDetectActivities({ db, blobs, detector, maxTileVoxels }: DetectActivityDeps) {
  return {
    /**
     * Runs the detector on a stored volume and stores the findings with their inference run (idempotent:
     * the same model on the same volume stores nothing new). Heartbeats with the stage and progress, so a
     * crashed worker's attempt is retried elsewhere within the heartbeat timeout.
     */
    async detectSeriesNodules(input: {
      seriesInstanceUid: string;
      volumeKey: string;
    }): Promise<DetectionOutcome> {
      if (!detector) {
        throw new DomainError(
          'MODEL_INVALID',
          'this worker has no detector loaded (see models/manifest.json)',
        );
      }
      const { seriesInstanceUid, volumeKey } = input;
      await setSeriesStatus(db, seriesInstanceUid, { status: 'detecting' });
      const record = await volumeByBlobKey(db, volumeKey);
      if (!record) throw new DomainError('NOT_FOUND', `no volume ${volumeKey} is recorded`);
      const volume = decodeNifti1Volume(await blobs.get(volumeKey), {
        spacingMm: record.spacingMm as CtVolume['spacingMm'],
        originLps: record.originLps as CtVolume['originLps'],
        direction: record.direction as CtVolume['direction'],
      });
      const started = performance.now();
      const detection = await detectNodules(volume, detector, {
        ...(maxTileVoxels && { maxTileVoxels }),
        onProgress: (stage, fraction) => Context.current().heartbeat({ stage, fraction }),
      });
      const findings: FindingRecord[] = [];
      for (const [ordinal, nodule] of detection.nodules.entries()) {
        findings.push({
          ...findingOf(nodule, ordinal),
          maskBlobKey: await storeMask(blobs, seriesInstanceUid, volume, nodule),
        });
      }
      const { runId, created } = await storeInferenceRun(db, volumeKey, {
        model: detectorIdentity(detector),
        parameters: detection.parameters,
        timings: { ...detection.timingsMs, totalMs: Math.round(performance.now() - started) },
        findings,
      });
      return { runId, findings: findings.length, created };
    },
  };
}

function findingOf(nodule: DetectedNodule, ordinal: number): Omit<FindingRecord, 'maskBlobKey'> {
  return {
    ordinal,
    centreLps: [...nodule.centreLps],
    boundingBoxIjk: [...nodule.boundingBoxIjk],
    longAxisMm: nodule.longAxisMm,
    shortAxisMm: nodule.shortAxisMm,
    axesLps: nodule.axesLps ?? null,
    meanDiameterMm: nodule.meanDiameterMm,
    volumeMm3: nodule.volumeMm3,
    meanHu: nodule.meanHu,
    type: nodule.type,
    solidComponentMm: nodule.solidComponentMm,
    score: nodule.score,
  };
}

/**
 * Stores a nodule's segmentation as a NIfTI-1 volume of its bounding box (1 = nodule, same voxel size and
 * axes as the CT, placed by its affine), under a key derived from its content: a retry writes the same blob.
 */
async function storeMask(
  blobs: BlobStore,
  seriesInstanceUid: string,
  volume: CtVolume,
  nodule: DetectedNodule,
): Promise<string> {
  const nifti = encodeNifti1(maskVolume(volume, nodule), 'nodus nodule mask (1 = nodule)');
  const sha256 = createHash('sha256').update(nifti).digest('hex');
  const key = `masks/${seriesInstanceUid}/${sha256}.nii`;
  if (!(await blobs.has(key))) await blobs.put(key, nifti);
  return key;
}

/** The mask of a nodule as a small CtVolume-shaped grid over its crop box (values 0/1). */
export function maskVolume(volume: CtVolume, nodule: DetectedNodule): CtVolume {
  const [i0, j0, k0, i1, j1, k1] = nodule.mask.boxIjk;
  const d = volume.direction;
  const [si, sj, sk] = volume.spacingMm;
  const originLps = [0, 1, 2].map(
    (a) => volume.originLps[a]! + i0 * si * d[a]! + j0 * sj * d[3 + a]! + k0 * sk * d[6 + a]!,
  ) as CtVolume['originLps'];
  return {
    dimensions: [i1 - i0 + 1, j1 - j0 + 1, k1 - k0 + 1],
    spacingMm: volume.spacingMm,
    originLps,
    direction: volume.direction,
    hu: Int16Array.from(nodule.mask.data),
    paddingVoxels: 0,
  };
}
