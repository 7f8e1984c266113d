/** Lung-RADS v2022 categories, from "incomplete" (0) to "very suspicious with additional features" (4X). */
export const LUNG_RADS_CATEGORIES = ['0', '1', '2', '3', '4A', '4B', '4X'] as const;

export type LungRadsCategory = (typeof LUNG_RADS_CATEGORIES)[number];

/**
 * Triage rank of a category: the worklist shows the highest rank first. Category 0 (incomplete: the exam must
 * be repeated or compared within 1-3 months) ranks above the benign categories 1 and 2 and below 3.
 * Studies without a category (AI not finished) rank lowest, at 0.
 */
export const TRIAGE_RANK: Record<LungRadsCategory, number> = {
  '4X': 7,
  '4B': 6,
  '4A': 5,
  '3': 4,
  '0': 3,
  '2': 2,
  '1': 1,
};
