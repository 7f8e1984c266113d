import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import {
  RESEARCH_WORKFLOWS,
  exportWorkflowId,
  freezeWorkflowId,
  type ExportProgress,
} from '../shared/research-workflows.js';

/** What the API shows of an export workflow. */
export interface ExportStatus {
  status: 'running' | 'completed' | 'failed' | 'not-started';
  progress?: ExportProgress;
  error?: string;
}

/** Starting and watching the research workflows (freeze and export of cohort snapshots). */
export function researchWorkflows(client: Client, settings: { taskQueue: string }) {
  return {
    async startFreeze(snapshotId: string): Promise<void> {
      await client.workflow.start(RESEARCH_WORKFLOWS.freeze, {
        workflowId: freezeWorkflowId(snapshotId),
        taskQueue: settings.taskQueue,
        args: [{ snapshotId }],
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      });
    },

    /** Starts writing the export to `outDir`, or returns the export already running; a finished one may run again. */
    async startExport(snapshotId: string, outDir: string): Promise<void> {
      await client.workflow.start(RESEARCH_WORKFLOWS.export, {
        workflowId: exportWorkflowId(snapshotId),
        taskQueue: settings.taskQueue,
        args: [{ snapshotId, outDir }],
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      });
    },

    /** The latest export of the snapshot: running (with the activity's last heartbeat), completed or failed. */
    async exportStatus(snapshotId: string): Promise<ExportStatus> {
      const handle = client.workflow.getHandle(exportWorkflowId(snapshotId));
      let description;
      try {
        description = await handle.describe();
      } catch {
        return { status: 'not-started' };
      }
      const state = description.status.name;
      if (state === 'COMPLETED') {
        return { status: 'completed', progress: (await handle.result()) as ExportProgress };
      }
      if (state === 'RUNNING') {
        const pending = description.raw.pendingActivities?.[0];
        const details = pending?.heartbeatDetails?.payloads?.[0]?.data;
        const progress = details
          ? (JSON.parse(new TextDecoder().decode(details)) as ExportProgress)
          : undefined;
        return { status: 'running', ...(progress && { progress }) };
      }
      const error = await handle.result().then(
        () => undefined,
        (e: unknown) =>
          e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e),
      );
      return { status: 'failed', ...(error && { error }) };
    },
  };
}

export type ResearchWorkflows = ReturnType<typeof researchWorkflows>;
