import { withFailureMapping } from '../failures.js';
import { createDetectActivities, type DetectActivityDeps } from './detect.js';
import { createReconstructActivities, type ReconstructActivityDeps } from './reconstruct.js';
import { createResearchActivities, type ResearchActivityDeps } from './research.js';
import { createReviewActivities } from './review.js';
import { createSeriesActivities, type SeriesActivityDeps } from './series.js';
import { createShareActivities } from './shares.js';

export type ActivityDeps = SeriesActivityDeps &
  ReconstructActivityDeps &
  DetectActivityDeps &
  Partial<Pick<ResearchActivityDeps, 'deidentificationKey'>>;

/** All activities of a nodus worker, with their dependencies injected and DomainErrors mapped. */
export function createActivities(deps: ActivityDeps) {
  return withFailureMapping({
    ...createSeriesActivities(deps),
    ...createReconstructActivities(deps),
    ...createDetectActivities(deps),
    ...createReviewActivities(deps),
    ...createResearchActivities(deps),
    ...createShareActivities(deps),
  });
}

/** Only the inference activities: what a worker on the inference task queue runs. */
export function createInferenceActivities(deps: DetectActivityDeps) {
  return withFailureMapping(createDetectActivities(deps));
}

export type Activities = ReturnType<typeof createActivities>;
