import { fileURLToPath } from 'node:url';
import {
  NativeConnection,
  Worker,
  bundleWorkflowCode,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { DomainError } from '../shared/errors.js';
import { createActivities, createInferenceActivities, type ActivityDeps } from './activities/index.js';
import type { DetectActivityDeps } from './activities/detect.js';
import { firstLine } from './client.js';

/** The workflows' entry point, loaded from source in development. */
export const WORKFLOWS_PATH = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));

export interface SeriesWorkerOptions {
  address: string;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  /** A prebuilt bundle (production); without it workflows are bundled from source at start. */
  workflowBundlePath?: string | undefined;
}

export interface SeriesWorkerHandle {
  worker: Worker;
  connection: NativeConnection;
  /** Resolves when the worker has stopped (after `shutdown()` or a fatal error). */
  run(): Promise<void>;
  shutdown(): Promise<void>;
}

/** Creates the series worker: processSeries workflows and the activities they call. */
export async function createSeriesWorker(options: SeriesWorkerOptions): Promise<SeriesWorkerHandle> {
  const connection = await connect(options.address);
  const worker = await Worker.create({
    connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: createActivities(options.deps),
    ...(options.workflowBundlePath
      ? { workflowBundle: { codePath: options.workflowBundlePath } }
      : { workflowsPath: WORKFLOWS_PATH }),
  });
  return handleOf(worker, connection);
}

export interface InferenceWorkerOptions {
  address: string;
  namespace: string;
  taskQueue: string;
  deps: DetectActivityDeps;
  /** Inferences at once in this process; each holds up to the memory budget (default 1). */
  concurrency?: number;
}

/**
 * Creates an inference worker: only the detection activity, on its own task queue, one at a time by default
 * (one inference uses every core and up to its memory budget). Its detector's sessions are created before.
 */
export async function createInferenceWorker(options: InferenceWorkerOptions): Promise<SeriesWorkerHandle> {
  const connection = await connect(options.address);
  const worker = await Worker.create({
    connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: createInferenceActivities(options.deps),
    maxConcurrentActivityTaskExecutions: options.concurrency ?? 1,
  });
  return handleOf(worker, connection);
}

async function connect(address: string): Promise<NativeConnection> {
  try {
    return await NativeConnection.connect({ address });
  } catch (error) {
    throw new DomainError(
      'DEPENDENCY_UNAVAILABLE',
      `cannot reach Temporal at ${address}: ${firstLine(error)}`,
      {
        retryable: true,
        cause: error,
      },
    );
  }
}

function handleOf(worker: Worker, connection: NativeConnection): SeriesWorkerHandle {
  let running: Promise<void> | undefined;
  let stopping: Promise<void> | undefined;
  return {
    worker,
    connection,
    run: () => (running ??= worker.run()),
    shutdown: () =>
      (stopping ??= (async () => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running?.catch(() => {});
        await connection.close();
      })()),
  };
}

/** Bundles the workflows for production (what `nodus bundle-workflows` writes). */
export async function bundleWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH });
}
