import { WorkflowIdConflictPolicy, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { ShareRow } from '../db/schema/index.js';
import { SHARE_WORKFLOWS, shareWorkflowId, type ShareLifecycleInput } from '../shared/share-workflows.js';

/** Starting and stopping a share's durable timers (`shareLifecycleWorkflow`, id `share:<id>`). */
export function shareWorkflows(client: Client, settings: { taskQueue: string }) {
  return {
    /** Starts the share's timers (its second read's due time, its expiry); a repeat finds them running. */
    async start(share: Pick<ShareRow, 'id' | 'expiresAt' | 'secondReadDueAt'>): Promise<void> {
      const input: ShareLifecycleInput = {
        shareId: share.id,
        expiresAt: share.expiresAt.toISOString(),
        ...(share.secondReadDueAt && { secondReadDueAt: share.secondReadDueAt.toISOString() }),
      };
      await client.workflow.start(SHARE_WORKFLOWS.lifecycle, {
        workflowId: shareWorkflowId(share.id),
        taskQueue: settings.taskQueue,
        args: [input],
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      });
    },

    /** Tells the share's timers it was revoked; a share whose timers already ended is fine. */
    async revoked(shareId: string): Promise<void> {
      try {
        await client.workflow.getHandle(shareWorkflowId(shareId)).signal(SHARE_WORKFLOWS.revokedSignal);
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return;
        throw error;
      }
    },
  };
}

export type ShareWorkflows = ReturnType<typeof shareWorkflows>;
