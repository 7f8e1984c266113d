import { z } from '@hono/zod-openapi';
import { isDicomUid } from '../shared/dicom-uid.js';
import { ERROR_CODES } from '../shared/errors.js';

/** OpenAPI schema of the one error envelope. */
export const ErrorEnvelopeSchema = z
  .object({
    error: z.object({
      code: z.enum(ERROR_CODES),
      message: z.string(),
      requestId: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .openapi('Error');

export const errorResponse = (description: string) => ({
  content: { 'application/json': { schema: ErrorEnvelopeSchema } },
  description,
});

/** A path parameter holding a DICOM UID (validated, documented in OpenAPI). */
export const dicomUidParam = (name: string) =>
  z
    .string()
    .refine(isDicomUid, 'must be a DICOM UID (digits and dots, at most 64 characters)')
    .openapi({ param: { name, in: 'path' }, example: '1.2.840.113619.2.55.3.1234' });

const PointLpsSchema = z.tuple([z.number(), z.number(), z.number()]);

/** Where a nodule's axes were measured (CaliperAxes): end points of the long and short axis, LPS mm. */
export const CaliperAxesSchema = z
  .object({
    long: z.tuple([PointLpsSchema, PointLpsSchema]),
    short: z.tuple([PointLpsSchema, PointLpsSchema]),
  })
  .openapi('CaliperAxes', {
    description:
      'end points of the long and the short axis on one axial slice, LPS mm, edge to edge (a bidirectional caliper)',
  });
