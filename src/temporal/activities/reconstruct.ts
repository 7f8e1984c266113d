import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import type { Database } from '../../db/client.js';
import { listSeriesInstanceBlobs } from '../../db/repositories/instances.js';
import { seriesReception, setSeriesStatus } from '../../db/repositories/series.js';
import { receptionIssues } from '../../ingest/series-completeness.js';
import { upsertVolume } from '../../db/repositories/volumes.js';
import type { BlobStore } from '../../storage/blob-store.js';
import { encodeNifti1InHeadroom, NIFTI1_HEADER_BYTES } from '../../volume/nifti.js';
import type { QualityIssue } from '../../volume/quality-issue.js';
import { reconstructSeries } from '../../volume/reconstruct-series.js';

export interface ReconstructActivityDeps {
  db: Database;
  blobs: BlobStore;
}

/** What the workflow learns from reconstruction: references and verdicts, never voxels. */
export interface ReconstructionOutcome {
  accepted: boolean;
  /** False while part of the series is missing (a gap, fewer than announced, a cut-off transfer). */
  complete: boolean;
  /** Blob key of the NIfTI-1 volume (int16 HU, RAS affine), when one was built. */
  volumeKey: string | undefined;
  dimensions: number[] | undefined;
  issues: QualityIssue[];
}

export function createReconstructActivities({ db, blobs }: ReconstructActivityDeps) {
  return {
    /**
     * Decodes the stored instances, reconstructs the HU volume, stores it in the blob store (key derived from
     * its content, so a retry writes the same blob) and records it with the series' quality issues.
     * Heartbeats per instance read.
     */
    async reconstructSeriesVolume(input: { seriesInstanceUid: string }): Promise<ReconstructionOutcome> {
      const { seriesInstanceUid } = input;
      const entries = await listSeriesInstanceBlobs(db, seriesInstanceUid);
      async function* instances() {
        for (const [index, entry] of entries.entries()) {
          Context.current().heartbeat({ read: index });
          yield { source: entry.sopInstanceUid, bytes: await blobs.get(entry.blobKey) };
        }
      }
      // Each blob is read into a fresh buffer used by nothing else: it is moved to a decoding thread and
      // decoded in place there. Room for the NIfTI header is left in front of the voxels, so the stored file
      // is a view of the volume's own memory, not a copy.
      const result = await reconstructSeries(instances(), {
        expectedSlices: entries.length,
        scratchInput: true,
        transferInput: true,
        headroomBytes: NIFTI1_HEADER_BYTES,
      });
      let volumeKey: string | undefined;
      if (result.volume) {
        const nifti = encodeNifti1InHeadroom(result.volume);
        const sha256 = createHash('sha256').update(nifti).digest('hex');
        volumeKey = `volumes/${seriesInstanceUid}/${sha256}.nii`;
        if (!(await blobs.has(volumeKey))) await blobs.put(volumeKey, nifti);
        await upsertVolume(db, seriesInstanceUid, result.volume, { blobKey: volumeKey, sha256 });
      }
      // How the series was received adds to what its images say: announced count, a cut-off transfer.
      const reception = await seriesReception(db, seriesInstanceUid);
      const issues = [...result.issues, ...(reception ? receptionIssues(reception) : [])];
      // The final status comes from the workflow, once it knows no instance arrived meanwhile.
      await setSeriesStatus(db, seriesInstanceUid, { status: 'reconstructing', quality: issues });
      return {
        accepted: result.accepted,
        complete: !issues.some((issue) => issue.severity === 'incomplete'),
        volumeKey,
        dimensions: result.volume ? [...result.volume.dimensions] : undefined,
        issues,
      };
    },
  };
}
