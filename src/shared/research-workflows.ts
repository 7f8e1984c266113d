/** Workflow type names and ids of the research workflows (shared by clients and workflow code). */
export const RESEARCH_WORKFLOWS = {
  freeze: 'freezeCohortSnapshotWorkflow',
  export: 'exportCohortSnapshotWorkflow',
} as const;

export interface ExportSnapshotInput {
  snapshotId: string;
  /** Absolute folder on the worker's file system. */
  outDir: string;
}

/** Progress of an export, as its activity heartbeats it. */
export interface ExportProgress {
  filesDone: number;
  filesTotal: number;
  filesKept: number;
  bytesWritten: number;
}

/** One freeze per snapshot, one export per snapshot and folder. */
export function freezeWorkflowId(snapshotId: string): string {
  return `snapshot-freeze:${snapshotId}`;
}

export function exportWorkflowId(snapshotId: string): string {
  return `snapshot-export:${snapshotId}`;
}
