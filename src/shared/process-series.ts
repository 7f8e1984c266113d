import type { SeriesStatus } from './series-status.js';

/** Input of the `processSeries` workflow (workflow id `series:<SeriesInstanceUID>`). */
export interface ProcessSeriesInput {
  seriesInstanceUid: string;
  /** The workflow goes on once no instance has arrived for this long (milliseconds). */
  quietPeriodMs: number;
  /** Task queue of the inference activities; the workflow's own queue when absent (one worker does all). */
  inferenceTaskQueue?: string | undefined;
  /**
   * How long an incomplete series (a gap, fewer instances than announced, a cut-off transfer) waits for the
   * rest before its workflow ends as `incomplete` (milliseconds); 7 days when absent. Later instances start a
   * new run.
   */
  incompleteWaitMs?: number | undefined;
}

/** Payload of the `instanceStored` signal, sent once per stored instance (signal-with-start). */
export interface InstanceStoredSignal {
  sopInstanceUid: string;
}

/** What `processSeries` returns; references only, never voxel data. */
export interface ProcessSeriesResult {
  seriesInstanceUid: string;
  status: SeriesStatus;
  instanceCount: number;
  /** Blob key of the reconstructed volume (NIfTI-1, int16 HU). */
  volumeKey?: string | undefined;
  /** The inference run that stored the findings, and how many. */
  detection?: { runId: string; findings: number } | undefined;
  /** The study's AI Lung-RADS category, when this series set it (absent when a reader already acted). */
  lungRadsCategory?: string | undefined;
  /** Quality gate findings: why the series was rejected, or caveats. */
  quality?: { code: string; severity: 'caveat' | 'reject' | 'incomplete'; message: string }[];
  error?: { code: string; message: string };
}

/** Answer of the `progress` query. */
export interface ProcessSeriesProgress {
  stage: 'waiting-for-instances' | 'processing' | 'finished';
  instancesSignalled: number;
}

export const PROCESS_SERIES = {
  workflowType: 'processSeries',
  instanceStoredSignal: 'instanceStored',
  progressQuery: 'progress',
} as const;
