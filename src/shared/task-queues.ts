/** Default Temporal task queue names; a deployment may override them (see src/config/env.ts). */
export const DEFAULT_TASK_QUEUES = {
  /** Series orchestration and light activities (database, blob store). */
  series: 'nodus-series',
  /** Model inference (CPU- or GPU-heavy activities), so it can scale on its own workers. */
  inference: 'nodus-inference',
} as const;
