import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  defineQuery,
  defineSignal,
  log,
  proxyActivities,
  setHandler,
} from '@temporalio/workflow';
import type { Activities } from '../src/temporal/activities/index.js';
import type {
  InstanceStoredSignal,
  ProcessSeriesInput,
  ProcessSeriesProgress,
  ProcessSeriesResult,
} from '../src/shared/process-series.js';
import { PROCESS_SERIES } from '../src/shared/process-series.js';

export const instanceStored = defineSignal<[InstanceStoredSignal]>(PROCESS_SERIES.instanceStoredSignal);
export const progress = defineQuery<ProcessSeriesProgress>(PROCESS_SERIES.progressQuery);

const { beginSeriesProcessing, completeSeriesProcessing, failSeriesProcessing } = proxyActivities<Activities>(
  {
    startToCloseTimeout: '1 minute',
    retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
  },
);

/**
 * One durable workflow per series (workflow id `series:<SeriesInstanceUID>`). It waits until no instance has
 * arrived for the quiet period, then runs the processing steps. Later steps (reconstruction, detection,
 * Lung-RADS) are added here as activities; the workflow only passes references, never voxel data.
 */
export async function processSeries(input: ProcessSeriesInput): Promise<ProcessSeriesResult> {
  let instancesSignalled = 0;
  let arrivedSinceLastCheck = false;
  let stage: ProcessSeriesProgress['stage'] = 'waiting-for-instances';

  setHandler(instanceStored, () => {
    instancesSignalled += 1;
    arrivedSinceLastCheck = true;
  });
  setHandler(progress, () => ({ stage, instancesSignalled }));

  // Quiet period: go on once no instance has arrived for `quietPeriodMs`.
  while (await condition(() => arrivedSinceLastCheck, input.quietPeriodMs)) {
    arrivedSinceLastCheck = false;
  }

  stage = 'processing';
  const { seriesInstanceUid } = input;
  try {
    const { instanceCount } = await beginSeriesProcessing({ seriesInstanceUid });
    await completeSeriesProcessing({ seriesInstanceUid, instanceCount });
    stage = 'finished';
    return { seriesInstanceUid, status: 'done', instanceCount };
  } catch (error) {
    const failure = error instanceof ActivityFailure ? error.cause : error;
    if (!(failure instanceof ApplicationFailure) || failure.type == null) throw error;
    const reason = { code: failure.type, message: failure.message };
    log.warn('series processing failed', { seriesInstanceUid, ...reason });
    if (failure.type !== 'SERIES_NOT_FOUND') {
      await failSeriesProcessing({ seriesInstanceUid, error: reason });
    }
    stage = 'finished';
    return { seriesInstanceUid, status: 'failed', instanceCount: 0, error: reason };
  }
}
