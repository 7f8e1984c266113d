import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  defineQuery,
  defineSignal,
  log,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../src/temporal/activities/index.js';
import type {
  InstanceStoredSignal,
  ProcessSeriesInput,
  ProcessSeriesProgress,
  ProcessSeriesResult,
} from '../src/shared/process-series.js';
import { PROCESS_SERIES } from '../src/shared/process-series.js';
import { shareWorkflowId } from '../src/shared/share-workflows.js';
import { shareLifecycleWorkflow } from './share-lifecycle.js';

export const instanceStored = defineSignal<[InstanceStoredSignal]>(PROCESS_SERIES.instanceStoredSignal);
export const progress = defineQuery<ProcessSeriesProgress>(PROCESS_SERIES.progressQuery);

/** How long an incomplete series waits for its missing instances before its workflow ends (7 days). */
const DEFAULT_INCOMPLETE_WAIT_MS = 7 * 24 * 3600 * 1000;

const retry = { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 };
const {
  beginSeriesProcessing,
  completeSeriesProcessing,
  failSeriesProcessing,
  assessStudyForReview,
  offerStudyToConsortium,
} = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry,
});
/** Reconstruction reads every instance: it heartbeats, so a dead worker's attempt is retried within 30 s. */
const { reconstructSeriesVolume } = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  retry,
});

/**
 * Detection runs on the inference task queue (workers that hold the ONNX sessions). It heartbeats per stage
 * and tile: a crashed worker's attempt is retried on another within a minute.
 */
const detectionActivities = (taskQueue: string) =>
  proxyActivities<Activities>({
    taskQueue,
    startToCloseTimeout: '20 minutes',
    heartbeatTimeout: '1 minute',
    retry: { ...retry, maximumAttempts: 5 },
  });

/**
 * One durable workflow per series (workflow id `series:<SeriesInstanceUID>`). It waits until no instance has
 * arrived for the quiet period, then reconstructs the volume, applies the screening quality gate and runs nodule
 * detection (findings stored by the activity), and finally gives the study its AI Lung-RADS category on the
 * radiologists' worklist. Instances that arrive while it works make it wait for quiet again
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
  const incompleteWaitMs = input.incompleteWaitMs ?? DEFAULT_INCOMPLETE_WAIT_MS;
  try {
    for (;;) {
      // Quiet period: go on once no instance has arrived for `quietPeriodMs`.
      while (await condition(() => arrivedSinceLastCheck, input.quietPeriodMs)) {
        arrivedSinceLastCheck = false;
      }
      const { instanceCount, receiving } = await beginSeriesProcessing({ seriesInstanceUid });
      if (receiving) {
        // A transfer of the series is still open (a slow sender): its status is not final yet.
        stage = 'waiting-for-instances';
        continue;
      }
      stage = 'processing';
      const reconstruction = await reconstructSeriesVolume({ seriesInstanceUid });
      if (arrivedSinceLastCheck) {
        // Instances arrived while processing: wait for quiet again and process the whole series anew.
        stage = 'waiting-for-instances';
        continue;
      }
      // Older workers return no `complete`: their series are complete as far as they can tell.
      const complete = reconstruction.complete ?? true;
      if (!reconstruction.accepted && complete) {
        // An unusable series still reaches the worklist: its study gets Lung-RADS 0 with the reasons.
        await completeSeriesProcessing({ seriesInstanceUid, instanceCount, status: 'rejected' });
        const assessment = await assessStudyForReview({ seriesInstanceUid });
        stage = 'finished';
        return {
          seriesInstanceUid,
          status: 'rejected',
          instanceCount,
          quality: reconstruction.issues,
          lungRadsCategory: assessment.assessed ? assessment.category : undefined,
        };
      }
      let detection: ProcessSeriesResult['detection'];
      if (reconstruction.accepted && reconstruction.volumeKey) {
        const { detectSeriesNodules } = detectionActivities(
          input.inferenceTaskQueue ?? workflowInfo().taskQueue,
        );
        const outcome = await detectSeriesNodules({ seriesInstanceUid, volumeKey: reconstruction.volumeKey });
        detection = { runId: outcome.runId, findings: outcome.findings };
        if (arrivedSinceLastCheck) {
          stage = 'waiting-for-instances';
          continue;
        }
      }
      const status = complete ? 'done' : 'incomplete';
      await completeSeriesProcessing({ seriesInstanceUid, instanceCount, status });
      const assessment = await assessStudyForReview({ seriesInstanceUid });
      // A consortium member's screened study is offered to its hub for a second read, with durable timers.
      if (assessment.assessed && patched('consortium-offer')) {
        const offered = await offerStudyToConsortium({ seriesInstanceUid });
        if (offered) {
          await startChild(shareLifecycleWorkflow, {
            workflowId: shareWorkflowId(offered.shareId),
            args: [offered],
            parentClosePolicy: ParentClosePolicy.ABANDON,
          });
        }
      }
      const result: ProcessSeriesResult = {
        seriesInstanceUid,
        status,
        instanceCount,
        volumeKey: reconstruction.volumeKey,
        quality: reconstruction.issues,
        detection,
        lungRadsCategory: assessment.assessed ? assessment.category : undefined,
      };
      if (complete) {
        stage = 'finished';
        return result;
      }
      // Not a complete exam (Lung-RADS 0 with the reason): wait for the rest, then process it all again.
      stage = 'waiting-for-instances';
      if (!(await condition(() => arrivedSinceLastCheck, incompleteWaitMs))) {
        stage = 'finished';
        return result;
      }
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
