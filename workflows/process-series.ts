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

const retry = { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 };
const { beginSeriesProcessing, completeSeriesProcessing, failSeriesProcessing } = proxyActivities<Activities>(
  {
    startToCloseTimeout: '1 minute',
    retry,
  },
);
/** Reconstruction reads every instance: it heartbeats, so a dead worker's attempt is retried within 30 s. */
const { reconstructSeriesVolume } = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  retry,
});

/**
 * One durable workflow per series (workflow id `series:<SeriesInstanceUID>`). It waits until no instance has
 * arrived for the quiet period, then reconstructs the volume and applies the screening quality gate; detection
 * and Lung-RADS follow as further activities. Instances that arrive while it works make it wait for quiet again
 * and process the whole series anew. The workflow passes references (UIDs, blob keys), never voxel data.
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

  const { seriesInstanceUid } = input;
  try {
    for (;;) {
      // Quiet period: go on once no instance has arrived for `quietPeriodMs`.
      while (await condition(() => arrivedSinceLastCheck, input.quietPeriodMs)) {
        arrivedSinceLastCheck = false;
      }
      stage = 'processing';
      const { instanceCount } = await beginSeriesProcessing({ seriesInstanceUid });
      const reconstruction = await reconstructSeriesVolume({ seriesInstanceUid });
      if (arrivedSinceLastCheck) {
        // Instances arrived while processing: wait for quiet again and process the whole series anew.
        stage = 'waiting-for-instances';
        continue;
      }
      stage = 'finished';
      if (!reconstruction.accepted) {
        return { seriesInstanceUid, status: 'rejected', instanceCount, quality: reconstruction.issues };
      }
      await completeSeriesProcessing({ seriesInstanceUid, instanceCount });
      return {
        seriesInstanceUid,
        status: 'done',
        instanceCount,
        volumeKey: reconstruction.volumeKey,
        quality: reconstruction.issues,
      };
    }
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
