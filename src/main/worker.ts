import { createSeriesWorker, type SeriesWorkerHandle } from '../temporal/worker.js';
import type { Platform } from './platform.js';

/** Starts the series worker of a platform; `done` settles when it stops. */
export async function startWorker(
  platform: Platform,
): Promise<{ handle: SeriesWorkerHandle; done: Promise<void> }> {
  const { config } = platform;
  const handle = await createSeriesWorker({
    address: platform.temporalAddress,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueues.series,
    deps: { db: platform.database.db, blobs: platform.blobs },
    workflowBundlePath: config.temporal.workflowBundlePath,
  });
  return { handle, done: handle.run() };
}
