/** What a reader can do: per nodule accept, reject, edit or add; per study sign off. */
export const REVIEW_ACTIONS = ['accept', 'reject', 'edit', 'add', 'sign-off'] as const;
export type ReviewAction = (typeof REVIEW_ACTIONS)[number];

/** Why a reader rejects an AI finding. */
export const REJECT_REASONS = [
  'not-a-nodule',
  'vessel',
  'scar-or-atelectasis',
  'pleural-or-chest-wall',
  'artefact',
  'duplicate',
  'benign-calcified',
  'other',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** Where a study is in review (the worklist's status):
 * - awaiting-ai: received, AI not finished;
 * - incomplete: the images are not all there (a gap, fewer than announced, a cut transfer): Lung-RADS 0 with
 *   the reason while nodus waits for the rest; readers may still act;
 * - ready: AI result in, no reader has acted yet;
 * - in-review: at least one review action;
 * - signed-off: a radiologist gave the final category; no further changes.
 */
export const STUDY_REVIEW_STATUSES = [
  'awaiting-ai',
  'incomplete',
  'ready',
  'in-review',
  'signed-off',
] as const;
export type StudyReviewStatus = (typeof STUDY_REVIEW_STATUSES)[number];
