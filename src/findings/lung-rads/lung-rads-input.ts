import { z } from 'zod';
import { DomainError } from '../../shared/errors.js';
import { AIRWAY_LEVELS, NODULE_STATUSES, NODULE_TYPES, type LungRadsExam } from './types.js';

const positiveMm = z.number().positive().finite();

/** One nodule of the Lung-RADS JSON input (sizes: mean diameters in mm). Unknown fields are rejected. */
export const lungRadsNoduleInputSchema = z.strictObject({
  id: z.string().min(1).optional(),
  type: z.enum(NODULE_TYPES),
  meanDiameterMm: positiveMm,
  solidComponentMm: positiveMm.optional(),
  status: z.enum(NODULE_STATUSES),
  juxtapleural: z.boolean().optional(),
  calcifiedBenign: z.boolean().optional(),
  suspiciousFeatures: z.boolean().optional(),
  airway: z.enum(AIRWAY_LEVELS).optional(),
});

/**
 * The JSON input of `nodus lungrads`: `{ "priorExam": boolean, "nodules": [...] }` plus the optional exam
 * findings. Checks shape and types only; the cross-field rules (solid component vs. total, status vs.
 * priorExam) are enforced by `assessLungRads`.
 */
export const lungRadsInputSchema = z.strictObject({
  priorExam: z.boolean(),
  nodules: z.array(lungRadsNoduleInputSchema),
  qualityReasons: z.array(z.string().trim().min(1)).optional(),
  priorBeingLocated: z.boolean().optional(),
  infectiousOrInflammatory: z.boolean().optional(),
  significantOtherFindings: z.boolean().optional(),
}) satisfies z.ZodType<LungRadsExam>;

export type LungRadsInput = z.infer<typeof lungRadsInputSchema>;

/** Parses untrusted JSON into an exam; throws DomainError VALIDATION_FAILED naming every failing field. */
export function parseLungRadsInput(value: unknown): LungRadsExam {
  const parsed = lungRadsInputSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map(
    (issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`,
  );
  throw new DomainError('VALIDATION_FAILED', `invalid Lung-RADS input: ${issues.join('; ')}`, {
    context: { issues },
  });
}
