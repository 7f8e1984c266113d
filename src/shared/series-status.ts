/** Where a series is in its life: receiving instances, then each processing stage, then a terminal state. */
export const SERIES_STATUSES = [
  'receiving',
  'reconstructing',
  'detecting',
  'done',
  'failed',
  'rejected',
  /** Processed as far as it came, but not complete (a gap, fewer instances than announced, a cut transfer). */
  'incomplete',
] as const;

export type SeriesStatus = (typeof SERIES_STATUSES)[number];
