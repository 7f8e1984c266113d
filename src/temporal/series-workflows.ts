import { WorkflowIdConflictPolicy, type Client } from '@temporalio/client';
import {
  PROCESS_SERIES,
  type InstanceStoredSignal,
  type ProcessSeriesInput,
  type ProcessSeriesResult,
} from '../shared/process-series.js';
import { seriesWorkflowId } from '../shared/workflow-ids.js';

export interface SeriesWorkflowSettings {
  taskQueue: string;
  quietPeriodMs: number;
  /** Task queue of the inference worker; without it the series worker runs detection too. */
  inferenceTaskQueue?: string | undefined;
}

/** Starting and signalling `processSeries` workflows (one per series, id `series:<uid>`). */
export function seriesWorkflows(client: Client, settings: SeriesWorkflowSettings) {
  const input = (seriesInstanceUid: string): ProcessSeriesInput => ({
    seriesInstanceUid,
    quietPeriodMs: settings.quietPeriodMs,
    ...(settings.inferenceTaskQueue && { inferenceTaskQueue: settings.inferenceTaskQueue }),
  });
  return {
    /** Starts processing, or returns the run already in progress for this series. */
    async start(seriesInstanceUid: string): Promise<{ workflowId: string; runId: string }> {
      const handle = await client.workflow.start(PROCESS_SERIES.workflowType, {
        workflowId: seriesWorkflowId(seriesInstanceUid),
        taskQueue: settings.taskQueue,
        args: [input(seriesInstanceUid)],
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      });
      return { workflowId: handle.workflowId, runId: handle.firstExecutionRunId };
    },

    /** Signal-with-start: tells the series' workflow an instance arrived, starting it if needed. */
    async instanceStored(seriesInstanceUid: string, sopInstanceUid: string): Promise<void> {
      const signal: InstanceStoredSignal = { sopInstanceUid };
      await client.workflow.signalWithStart(PROCESS_SERIES.workflowType, {
        workflowId: seriesWorkflowId(seriesInstanceUid),
        taskQueue: settings.taskQueue,
        args: [input(seriesInstanceUid)],
        signal: PROCESS_SERIES.instanceStoredSignal,
        signalArgs: [signal],
      });
    },

    /** Waits for the current run of the series' workflow to finish. */
    async result(seriesInstanceUid: string): Promise<ProcessSeriesResult> {
      return client.workflow
        .getHandle(seriesWorkflowId(seriesInstanceUid))
        .result() as Promise<ProcessSeriesResult>;
    },
  };
}

export type SeriesWorkflows = ReturnType<typeof seriesWorkflows>;
