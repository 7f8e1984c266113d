import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../src/temporal/activities/index.js';
import type { ExportProgress, ExportSnapshotInput } from '../src/shared/research-workflows.js';

const retry = { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 5 };
/** Both make every file of the export: long, so they heartbeat; a dead worker's attempt is retried in 2 min. */
const { freezeCohortSnapshot, exportCohortSnapshot } = proxyActivities<Activities>({
  startToCloseTimeout: '6 hours',
  heartbeatTimeout: '2 minutes',
  retry,
});
const { markCohortSnapshotFailed } = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', retry });

/**
 * Freezes a cohort snapshot (workflow id `snapshot-freeze:<id>`): captures its members and hashes every
 * export file. When that fails for good, the snapshot is marked failed with the reason.
 */
export async function freezeCohortSnapshotWorkflow(input: {
  snapshotId: string;
}): Promise<{ files: number; studies: number }> {
  try {
    return await freezeCohortSnapshot(input);
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
    const reason = cause instanceof Error ? cause.message : String(cause);
    await markCohortSnapshotFailed({ snapshotId: input.snapshotId, reason });
    throw ApplicationFailure.nonRetryable(`cohort snapshot ${input.snapshotId} was not frozen: ${reason}`);
  }
}

/** Writes a frozen snapshot's export to a folder (workflow id `snapshot-export:<id>`), resumable. */
export async function exportCohortSnapshotWorkflow(input: ExportSnapshotInput): Promise<ExportProgress> {
  return exportCohortSnapshot(input);
}
