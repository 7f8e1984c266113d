import { z } from '@hono/zod-openapi';
import { SECOND_FACTORS, SHARE_AUDIENCES, SHARE_OPENING_OUTCOMES } from '../../sharing/share-scope.js';
import { isDicomUid } from '../../shared/dicom-uid.js';

const Uid = z.string().refine(isDicomUid, 'must be a DICOM UID');

/** What a share covers: series and/or key images of the study; absent or empty for the whole study. */
export const ShareScopeSchema = z
  .object({
    seriesInstanceUids: z.array(Uid).max(100).optional(),
    sopInstanceUids: z.array(Uid).max(1000).optional().openapi({ description: 'key images' }),
  })
  .openapi('ShareScope');

/** A new share's link, shown once: its secret is not kept. */
export const CreatedShareSchema = z
  .object({
    id: z.string(),
    url: z.string().openapi({ description: 'The link: <origin>/s/<secret>, nothing else in it' }),
    qrCode: z.string().openapi({ description: 'The link as a QR code, a data:image/png;base64 URL' }),
    expiresAt: z.string(),
  })
  .openapi('CreatedShare');

export const ShareOpeningSchema = z.object({
  occurredAt: z.string(),
  outcome: z.enum(SHARE_OPENING_OUTCOMES),
  address: z.string().nullable(),
  userAgent: z.string().nullable(),
});

export const ShareSummarySchema = z
  .object({
    id: z.string(),
    studyId: z.string(),
    audience: z.enum(SHARE_AUDIENCES),
    partnerInstitution: z.string().nullable(),
    parentShareId: z.string().nullable(),
    scope: ShareScopeSchema.nullable(),
    allowDownload: z.boolean(),
    secondFactor: z.enum(SECOND_FACTORS),
    notBefore: z.string(),
    expiresAt: z.string(),
    revokedAt: z.string().nullable(),
    createdAt: z.string(),
    offeredByConsortium: z.boolean(),
    secondReadDueAt: z.string().nullable(),
    secondReadOverdueAt: z.string().nullable(),
    lastUsedAt: z.string().nullable(),
    useCount: z.number().int(),
    status: z.enum(['active', 'not-yet-valid', 'expired', 'revoked']),
    openings: z.array(ShareOpeningSchema).openapi({ description: 'The newest 100' }),
  })
  .openapi('Share');
