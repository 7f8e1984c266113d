import { withFailureMapping } from '../failures.js';
import { createReconstructActivities, type ReconstructActivityDeps } from './reconstruct.js';
import { createSeriesActivities, type SeriesActivityDeps } from './series.js';

export type ActivityDeps = SeriesActivityDeps & ReconstructActivityDeps;

/** All activities of a nodus worker, with their dependencies injected and DomainErrors mapped. */
export function createActivities(deps: ActivityDeps) {
  return withFailureMapping({ ...createSeriesActivities(deps), ...createReconstructActivities(deps) });
}

export type Activities = ReturnType<typeof createActivities>;
