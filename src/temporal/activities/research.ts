import { Context } from '@temporalio/activity';
import type { Database } from '../../db/client.js';
import { writeExportFolder } from '../../research/export/export-folder.js';
import { markSnapshotFailed } from '../../db/repositories/cohort-snapshots.js';
import { freezeSnapshot, frozenSnapshotFiles, loadFrozenSnapshot } from '../../research/cohort-snapshot.js';
import type { ExportProgress, ExportSnapshotInput } from '../../shared/research-workflows.js';
import type { BlobStore } from '../../storage/blob-store.js';

export interface ResearchActivityDeps {
  db: Database;
  blobs: BlobStore;
  /** NODUS_DEID_KEY; without it freezing and exporting fail with a clear, non-retryable error. */
  deidentificationKey?: string | undefined;
}

/** Freezing and exporting cohort snapshots. Both heartbeat their progress and are safe to retry. */
export function createResearchActivities(deps: ResearchActivityDeps) {
  const snapshotDeps = { db: deps.db, blobs: deps.blobs, deidentificationKey: deps.deidentificationKey };
  return {
    /** Captures the members and hashes every export file (see freezeSnapshot); returns the file count. */
    async freezeCohortSnapshot(input: { snapshotId: string }): Promise<{ files: number; studies: number }> {
      const manifest = await freezeSnapshot(snapshotDeps, input.snapshotId, (stage, done, total) =>
        Context.current().heartbeat({ stage, done, total }),
      );
      return { files: manifest.files.length, studies: manifest.studies };
    },

    async markCohortSnapshotFailed(input: { snapshotId: string; reason: string }): Promise<void> {
      await markSnapshotFailed(deps.db, input.snapshotId, input.reason);
    },

    /**
     * Writes a frozen snapshot's export into a folder, each file checked against the manifest. A retry after a
     * crash keeps the files already written (same size and hash) and goes on from there.
     */
    async exportCohortSnapshot(input: ExportSnapshotInput): Promise<ExportProgress> {
      const frozen = await loadFrozenSnapshot(snapshotDeps, input.snapshotId);
      return writeExportFolder(
        frozenSnapshotFiles(snapshotDeps, frozen),
        frozen.manifest,
        input.outDir,
        (progress) => Context.current().heartbeat(progress),
      );
    },
  };
}
