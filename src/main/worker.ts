import { loadDetector } from '../inference/model-registry.js';
import { createInferenceWorker, createSeriesWorker, type SeriesWorkerHandle } from '../temporal/worker.js';
import type { Platform } from './platform.js';

/**
 * Starts the workers of a platform: the series worker (workflows, database and blob activities) and the
 * inference worker (detection, on its own task queue, with the detector's ONNX sessions created here, once
 * per process). `done` settles when both stop.
 */
export async function startWorker(
  platform: Platform,
): Promise<{ handle: SeriesWorkerHandle; done: Promise<void> }> {
  const { config } = platform;
  const detector = await loadDetector(config.inference.detector, {
    ...(config.inference.modelsDir && { modelsDir: config.inference.modelsDir }),
    ...(config.inference.threads && { intraOpThreads: config.inference.threads }),
  });
  // The series worker can run detection too: for workflows started without an inference task queue.
  const deps = {
    db: platform.database.db,
    blobs: platform.blobs,
    detector,
    maxTileVoxels: config.inference.maxTileVoxels,
    deidentificationKey: config.deidentificationKey,
  };
  const series = await createSeriesWorker({
    address: platform.temporalAddress,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueues.series,
    deps,
    workflowBundlePath: config.temporal.workflowBundlePath,
  });
  const inference = await createInferenceWorker({
    address: platform.temporalAddress,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueues.inference,
    deps,
  });
  const done = Promise.all([series.run(), inference.run()]).then(() => undefined);
  const handle: SeriesWorkerHandle = {
    ...series,
    run: () => done,
    shutdown: async () => {
      await Promise.all([series.shutdown(), inference.shutdown()]);
    },
  };
  return { handle, done };
}
