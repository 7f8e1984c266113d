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
