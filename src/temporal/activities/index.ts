import { withFailureMapping } from '../failures.js';
import { createSeriesActivities, type SeriesActivityDeps } from './series.js';

export type ActivityDeps = SeriesActivityDeps;

/** All activities of a nodus worker, with their dependencies injected and DomainErrors mapped. */
export function createActivities(deps: ActivityDeps) {
  return withFailureMapping({ ...createSeriesActivities(deps) });
}

export type Activities = ReturnType<typeof createActivities>;
