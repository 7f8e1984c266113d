/** Where a series is in its life: receiving instances, then each processing stage, then a terminal state. */
export const SERIES_STATUSES = [
  'receiving',
  'reconstructing',
  'detecting',
  'done',
  'failed',
  'rejected',
] as const;

export type SeriesStatus = (typeof SERIES_STATUSES)[number];
