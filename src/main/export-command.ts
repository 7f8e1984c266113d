import path from 'node:path';
import type { Database } from '../db/client.js';
import { frozenSnapshotFiles, loadFrozenSnapshot } from '../research/cohort-snapshot.js';
import { writeExportFolder, type FolderExportProgress } from '../research/export/export-folder.js';
import type { BlobStore } from '../storage/blob-store.js';

/**
 * `nodus export <snapshot-id> --out <folder>`: writes a frozen snapshot's export into a folder, every file
 * checked against the snapshot's manifest (so it is byte-identical to every other export of it). Run it
 * again after an interruption: files already written are kept. Prints a JSON summary.
 */
export async function exportCommand(
  deps: { db: Database; blobs: BlobStore; deidentificationKey: string | undefined },
  snapshotId: string,
  outDir: string,
  onProgress: (done: number, total: number) => void,
  out: Pick<NodeJS.WritableStream, 'write'> = process.stdout,
): Promise<number> {
  const frozen = await loadFrozenSnapshot(deps, snapshotId);
  const started = performance.now();
  const progress: FolderExportProgress = await writeExportFolder(
    frozenSnapshotFiles(deps, frozen),
    frozen.manifest,
    path.resolve(outDir),
    (p) => onProgress(p.filesDone, p.filesTotal),
  );
  const seconds = (performance.now() - started) / 1000;
  out.write(
    `${JSON.stringify(
      {
        snapshotId,
        project: frozen.manifest.project,
        cohort: frozen.manifest.cohort,
        out: path.resolve(outDir),
        studies: frozen.manifest.studies,
        ...progress,
        seconds: Math.round(seconds * 10) / 10,
      },
      null,
      2,
    )}\n`,
  );
  return 0;
}
