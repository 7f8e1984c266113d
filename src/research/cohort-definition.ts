import { z } from 'zod';
import { LUNG_RADS_CATEGORIES } from '../shared/lung-rads-category.js';
import { STUDY_REVIEW_STATUSES } from '../shared/review.js';

const Range = z
  .object({ min: z.number().finite().optional(), max: z.number().finite().optional() })
  .strict()
  .refine((r) => r.min === undefined || r.max === undefined || r.min <= r.max, 'min must not exceed max');

const DateRange = z
  .object({ from: z.iso.date().optional(), to: z.iso.date().optional() })
  .strict()
  .refine((r) => !r.from || !r.to || r.from <= r.to, 'from must not be after to');

const nonEmpty = <T extends z.ZodTypeAny>(item: T) => z.array(item).min(1).max(100);

/** A condition on the labels of a member study or of one of its nodules (any label, any source). */
const LabelCondition = z
  .object({
    vocabulary: z.string().min(1).max(100),
    /** Category vocabularies: one of these codes. */
    codes: nonEmpty(z.string().min(1).max(100)).optional(),
    /** Number vocabularies: a value in this range (the vocabulary's unit). */
    range: Range.optional(),
  })
  .strict()
  .refine((c) => !(c.codes && c.range), 'give codes or range, not both');

/**
 * A cohort: the studies that satisfy every condition given (absent conditions do not filter).
 * Each member contributes its processed CT series (the newest volume); nodules are the study's reviewed
 * nodules as they stand (rejected ones are exported with their decision).
 * Sizes are the Lung-RADS mean diameter in mm; dates are StudyDate (YYYY-MM-DD, inclusive).
 */
export const CohortDefinitionSchema = z
  .object({
    /** Institution codes; members are always limited to the institutions the caller may see. */
    institutions: nonEmpty(z.string().min(1).max(64)).optional(),
    studyDate: DateRange.optional(),
    /** Lung-RADS category, from the AI alone (`ai`), as it stands (`current`) or at sign-off (`final`). */
    lungRads: z
      .object({
        categories: nonEmpty(z.enum(LUNG_RADS_CATEGORIES)),
        of: z.enum(['ai', 'current', 'final']).default('current'),
      })
      .strict()
      .optional(),
    reviewStatus: nonEmpty(z.enum(STUDY_REVIEW_STATUSES)).optional(),
    /** At least one nodule (not rejected by a reader) with all of these. */
    nodule: z
      .object({
        meanDiameterMm: Range.optional(),
        types: nonEmpty(z.enum(['solid', 'part-solid', 'ground-glass'])).optional(),
      })
      .strict()
      .optional(),
    /** The detector (e.g. `nodus-detector@1.1.0`) or model that produced the AI findings, as `id@version`. */
    models: nonEmpty(z.string().regex(/^[\w.-]+@[\w.+-]+$/, 'id@version')).optional(),
    /** Every condition must hold (each by some label of the study or its nodules). */
    labels: nonEmpty(LabelCondition).optional(),
    scanner: z
      .object({
        manufacturers: nonEmpty(z.string().min(1).max(200)).optional(),
        models: nonEmpty(z.string().min(1).max(200)).optional(),
      })
      .strict()
      .optional(),
    /** ConvolutionKernel values (exact, case-sensitive as sent). */
    kernels: nonEmpty(z.string().min(1).max(64)).optional(),
    sliceThicknessMm: Range.optional(),
  })
  .strict();

export type CohortDefinition = z.infer<typeof CohortDefinitionSchema>;
