export { processSeries } from './process-series.js';
export { freezeCohortSnapshotWorkflow, exportCohortSnapshotWorkflow } from './cohort-snapshots.js';
export { shareLifecycleWorkflow } from './share-lifecycle.js';
