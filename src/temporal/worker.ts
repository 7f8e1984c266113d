import { fileURLToPath } from 'node:url';
import {
  NativeConnection,
  Worker,
  bundleWorkflowCode,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { DomainError } from '../shared/errors.js';
import { createActivities, type ActivityDeps } from './activities/index.js';
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
  let connection: NativeConnection;
  try {
    connection = await NativeConnection.connect({ address: options.address });
  } catch (error) {
    throw new DomainError(
      'DEPENDENCY_UNAVAILABLE',
      `cannot reach Temporal at ${options.address}: ${firstLine(error)}`,
      {
        retryable: true,
        cause: error,
      },
    );
  }
  const worker = await Worker.create({
    connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: createActivities(options.deps),
    ...(options.workflowBundlePath
      ? { workflowBundle: { codePath: options.workflowBundlePath } }
      : { workflowsPath: WORKFLOWS_PATH }),
  });
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
