import type { Database } from '../../db/client.js';
import { assessSeriesForReview, type AiAssessmentOutcome } from '../../db/repositories/study-reviews.js';

export interface ReviewActivityDeps {
  db: Database;
}

/** Activities that bring AI results to the radiologists' worklist. Idempotent. */
export function createReviewActivities({ db }: ReviewActivityDeps) {
  return {
    /**
     * Gives the series' study its AI Lung-RADS category (from the series' findings, its prior and the quality
     * gate) and puts it on the worklist. A study a reader already acted on is left unchanged.
     */
    async assessStudyForReview(input: { seriesInstanceUid: string }): Promise<AiAssessmentOutcome> {
      return assessSeriesForReview(db, input.seriesInstanceUid);
    },
  };
}
