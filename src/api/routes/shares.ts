import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { requireRole } from '../../access/policy.js';
import type { Database } from '../../db/client.js';
import {
  consortiumMembersList,
  removeConsortiumMember,
  setConsortiumMember,
} from '../../db/repositories/consortium.js';
import { recordSecondRead, secondReadsOf } from '../../db/repositories/second-reads.js';
import { activeInstitutionShare, revokeShare, shareById, studyShares } from '../../db/repositories/shares.js';
import { storeSignedOffObjects } from '../../ingest/store-signed-off-objects.js';
import type { Logger } from '../../logging/logger.js';
import { DomainError } from '../../shared/errors.js';
import { LUNG_RADS_CATEGORIES } from '../../shared/lung-rads-category.js';
import type { UserRole } from '../../shared/roles.js';
import { createShare } from '../../sharing/create-share.js';
import { startShareTimers } from '../../sharing/start-share-timers.js';
import { qrCodeDataUrl, shareUrl } from '../../sharing/share-link.js';
import {
  DEFAULT_SHARE_HOURS,
  MAX_SHARE_HOURS,
  SECOND_FACTORS,
  SECOND_READ_OPINIONS,
  SHARE_AUDIENCES,
} from '../../sharing/share-scope.js';
import type { BlobStore } from '../../storage/blob-store.js';
import type { ShareWorkflows } from '../../temporal/share-workflows.js';
import { principalOf, type AppEnv } from '../app.js';
import { audit } from '../audit.js';
import { publicBaseUrl } from '../dicomweb/retrieve-urls.js';
import { errorResponse } from '../schemas.js';
import { authorizeStudy } from '../study-access.js';
import { CreatedShareSchema, ShareScopeSchema, ShareSummarySchema } from './share-schemas.js';

/** Who may share a study of their institution, and see and revoke its shares. */
const SHARER_ROLES: readonly UserRole[] = ['radiologist', 'admin'];

const security = [{ bearer: [] }];
const errors = {
  400: errorResponse('Invalid request'),
  401: errorResponse('No valid bearer token'),
  403: errorResponse("Not a radiologist or admin of the study's institution"),
  404: errorResponse('Unknown study or share'),
};
const StudyParams = z.object({ studyId: z.guid().openapi({ param: { name: 'studyId', in: 'path' } }) });

const ShareBodySchema = z
  .object({
    audience: z.enum(SHARE_AUDIENCES),
    institution: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .openapi({ description: "The partner's code (audience institution)" }),
    expiresInHours: z
      .number()
      .positive()
      .max(MAX_SHARE_HOURS)
      .optional()
      .openapi({
        description: `Hours until the link expires; ${DEFAULT_SHARE_HOURS} (30 days) unless given`,
      }),
    allowDownload: z.boolean().optional(),
    pin: z.string().optional().openapi({ description: 'A PIN of 4-12 digits the opener must type' }),
    secondFactor: z.enum(SECOND_FACTORS).optional().openapi({
      description: "`birth-date`: the opener types the patient's birth date (`pin` comes with `pin`)",
    }),
    scope: ShareScopeSchema.optional(),
    secondReadDueInHours: z.number().positive().max(MAX_SHARE_HOURS).optional().openapi({
      description: 'When the partner’s second read is due (audience institution); 72 hours unless given',
    }),
  })
  .openapi('ShareRequest');

const postShare = createRoute({
  method: 'post',
  path: '/api/studies/{studyId}/shares',
  summary: "Shares a study: a patient's digital film (QR code) or a partner institution's second read",
  security,
  request: {
    params: StudyParams,
    body: { content: { 'application/json': { schema: ShareBodySchema } }, required: true },
  },
  responses: {
    201: {
      content: { 'application/json': { schema: CreatedShareSchema } },
      description: 'The share, its link and QR code (the link is shown only now)',
    },
    ...errors,
  },
});

const listShares = createRoute({
  method: 'get',
  path: '/api/studies/{studyId}/shares',
  summary: "A study's shares (links passed on by the patient included), each with its openings",
  security,
  request: { params: StudyParams },
  responses: {
    200: {
      content: { 'application/json': { schema: z.object({ shares: z.array(ShareSummarySchema) }) } },
      description: 'Newest first',
    },
    ...errors,
  },
});

const deleteShare = createRoute({
  method: 'delete',
  path: '/api/shares/{shareId}',
  summary: 'Revokes a share and the links passed on from it; their viewer sessions end at once',
  security,
  request: { params: z.object({ shareId: z.guid().openapi({ param: { name: 'shareId', in: 'path' } }) }) },
  responses: { 204: { description: 'Revoked' }, ...errors },
});

const SecondReadBodySchema = z
  .object({
    opinion: z.enum(SECOND_READ_OPINIONS),
    category: z.enum(LUNG_RADS_CATEGORIES),
    comment: z.string().max(4000).optional(),
  })
  .openapi('SecondReadRequest');

const SecondReadSchema = z
  .object({
    id: z.string(),
    shareId: z.string(),
    reader: z.object({ userId: z.string(), displayName: z.string(), email: z.string() }),
    institutionName: z.string(),
    institutionCode: z.string(),
    opinion: z.enum(SECOND_READ_OPINIONS),
    category: z.enum(LUNG_RADS_CATEGORIES),
    comment: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi('SecondRead');

const postSecondRead = createRoute({
  method: 'post',
  path: '/api/studies/{studyId}/second-reads',
  summary:
    "A partner institution's radiologist's second read of a study shared with it (beside the first read)",
  security,
  request: {
    params: StudyParams,
    body: { content: { 'application/json': { schema: SecondReadBodySchema } }, required: true },
  },
  responses: {
    201: { content: { 'application/json': { schema: SecondReadSchema } }, description: 'Recorded' },
    ...errors,
    403: errorResponse('Not a radiologist of an institution the study is shared with'),
  },
});

const listSecondReads = createRoute({
  method: 'get',
  path: '/api/studies/{studyId}/second-reads',
  summary: "A study's second reads, oldest first",
  security,
  request: { params: StudyParams },
  responses: {
    200: {
      content: { 'application/json': { schema: z.object({ secondReads: z.array(SecondReadSchema) }) } },
      description: 'The second reads',
    },
    ...errors,
  },
});

const ConsortiumMemberSchema = z
  .object({
    member: z.string(),
    hub: z.string(),
    secondReadHours: z.number().int(),
    shareHours: z.number().int(),
  })
  .openapi('ConsortiumMember');

const putMember = createRoute({
  method: 'put',
  path: '/api/consortium/members/{institution}',
  summary:
    'Makes an institution (a community centre) a consortium member whose studies are offered to its hub',
  security,
  request: {
    params: z.object({
      institution: z
        .string()
        .min(1)
        .max(64)
        .openapi({ param: { name: 'institution', in: 'path' } }),
    }),
    body: {
      content: {
        'application/json': {
          schema: z.object({
            hub: z.string().min(1).max(64),
            secondReadHours: z.number().int().positive().max(MAX_SHARE_HOURS).default(72),
            shareHours: z.number().int().positive().max(MAX_SHARE_HOURS).default(DEFAULT_SHARE_HOURS),
          }),
        },
      },
      required: true,
    },
  },
  responses: {
    200: { content: { 'application/json': { schema: ConsortiumMemberSchema } }, description: 'The member' },
    ...errors,
    403: errorResponse('Not an admin'),
  },
});

const deleteMember = createRoute({
  method: 'delete',
  path: '/api/consortium/members/{institution}',
  summary: 'Ends an institution’s membership (shares already offered stay until they expire or are revoked)',
  security,
  request: {
    params: z.object({
      institution: z
        .string()
        .min(1)
        .max(64)
        .openapi({ param: { name: 'institution', in: 'path' } }),
    }),
  },
  responses: { 204: { description: 'Removed' }, ...errors, 403: errorResponse('Not an admin') },
});

const listMembers = createRoute({
  method: 'get',
  path: '/api/consortium/members',
  summary: "The consortium's members and their hubs",
  security,
  responses: {
    200: {
      content: { 'application/json': { schema: z.object({ members: z.array(ConsortiumMemberSchema) }) } },
      description: 'Members by code',
    },
    ...errors,
  },
});

export interface ShareRouteDeps {
  db: Database;
  ingest?: { blobs: BlobStore } | undefined;
  logger?: Logger | undefined;
  publicUrl?: string | undefined;
  shareWorkflows?: ShareWorkflows | undefined;
}

/**
 * Sharing a study: the sending institution's radiologists and admins create, list and revoke its shares; a
 * partner's radiologists record their second read; admins configure the consortium.
 */
export function shareRoutes(deps: ShareRouteDeps) {
  const app = new OpenAPIHono<AppEnv>();

  app.openapi(postShare, async (c) => {
    const principal = principalOf(c);
    requireRole(principal, SHARER_ROLES, 'share studies');
    const { studyId } = c.req.valid('param');
    await authorizeStudy(deps.db, principal, studyId, 'share studies');
    const request = c.req.valid('json');
    const { share, secret } = await createShare(deps.db, {
      studyId,
      request,
      createdByUserId: principal.userId,
    });
    await startShareTimers(deps.db, deps.shareWorkflows, share);
    await audit(c, deps.db, {
      action: 'share.created',
      resourceType: 'study',
      resourceId: studyId,
      details: {
        shareId: share.id,
        audience: share.audience,
        ...(request.institution && { institution: request.institution }),
        expiresAt: share.expiresAt.toISOString(),
        allowDownload: share.allowDownload,
        secondFactor: share.secondFactor,
      },
    });
    const url = shareUrl(publicBaseUrl(c.req.url, deps.publicUrl), secret);
    return c.json(
      { id: share.id, url, qrCode: await qrCodeDataUrl(url), expiresAt: share.expiresAt.toISOString() },
      201,
    );
  });

  app.openapi(listShares, async (c) => {
    const principal = principalOf(c);
    requireRole(principal, SHARER_ROLES, "see a study's shares");
    const { studyId } = c.req.valid('param');
    await authorizeStudy(deps.db, principal, studyId, "see a study's shares");
    const shares = await studyShares(deps.db, studyId);
    await audit(c, deps.db, { action: 'share.listed', resourceType: 'study', resourceId: studyId });
    return c.json({ shares }, 200);
  });

  app.openapi(deleteShare, async (c) => {
    const principal = principalOf(c);
    requireRole(principal, SHARER_ROLES, 'revoke shares');
    const { shareId } = c.req.valid('param');
    const share = await shareById(deps.db, shareId);
    if (!share) throw new DomainError('NOT_FOUND', `share ${shareId} is unknown`);
    await authorizeStudy(deps.db, principal, share.studyId, 'revoke shares');
    await revokeShare(deps.db, shareId);
    // The revocation is in force already; stopping the timers may wait for Temporal.
    await deps.shareWorkflows
      ?.revoked(shareId)
      .catch((error: unknown) =>
        deps.logger?.warn({ err: error, shareId }, "share's timers not told of revocation"),
      );
    await audit(c, deps.db, {
      action: 'share.revoked',
      resourceType: 'study',
      resourceId: share.studyId,
      details: { shareId },
    });
    return c.body(null, 204);
  });

  app.openapi(postSecondRead, async (c) => {
    const principal = principalOf(c);
    requireRole(principal, ['radiologist'], 'record second reads');
    const { studyId } = c.req.valid('param');
    const share = await activeInstitutionShare(deps.db, studyId, principal.institutionIds);
    if (!share) {
      // Unknown and unshared alike: nothing tells a partner about studies not shared with it.
      throw new DomainError('FORBIDDEN', 'the study is not shared with your institution for a second read', {
        context: { reason: 'institution' },
      });
    }
    const body = c.req.valid('json');
    const { id } = await recordSecondRead(deps.db, {
      studyId,
      shareId: share.id,
      readerUserId: principal.userId,
      institutionId: share.partnerInstitutionId!,
      ...body,
    });
    await audit(c, deps.db, {
      action: 'review.second-read',
      resourceType: 'study',
      resourceId: studyId,
      details: { shareId: share.id, secondReadId: id, opinion: body.opinion, category: body.category },
    });
    if (deps.ingest) {
      // A signed-off study's SR is written again with the second read beside the first (a new version).
      await storeSignedOffObjects({ db: deps.db, blobs: deps.ingest.blobs }, studyId).catch(
        (error: unknown) => {
          if (!(error instanceof DomainError && error.code === 'CONFLICT')) {
            deps.logger?.error({ err: error, studyId }, 'SR with the second read not stored');
          }
        },
      );
    }
    const record = (await secondReadsOf(deps.db, studyId)).find((r) => r.id === id)!;
    return c.json(record, 201);
  });

  app.openapi(listSecondReads, async (c) => {
    const principal = principalOf(c);
    const { studyId } = c.req.valid('param');
    await authorizeStudy(deps.db, principal, studyId, 'read second reads', 'allowed');
    return c.json({ secondReads: await secondReadsOf(deps.db, studyId) }, 200);
  });

  app.openapi(putMember, async (c) => {
    const principal = principalOf(c);
    requireRole(principal, ['admin'], 'configure the consortium');
    const { institution } = c.req.valid('param');
    const terms = { member: institution, ...c.req.valid('json') };
    await setConsortiumMember(deps.db, terms);
    await audit(c, deps.db, {
      action: 'consortium.member-set',
      resourceType: 'institution',
      resourceId: institution,
      details: terms,
    });
    return c.json(terms, 200);
  });

  app.openapi(deleteMember, async (c) => {
    const principal = principalOf(c);
    requireRole(principal, ['admin'], 'configure the consortium');
    const { institution } = c.req.valid('param');
    if (!(await removeConsortiumMember(deps.db, institution))) {
      throw new DomainError('NOT_FOUND', `${institution} is no consortium member`);
    }
    await audit(c, deps.db, {
      action: 'consortium.member-removed',
      resourceType: 'institution',
      resourceId: institution,
    });
    return c.body(null, 204);
  });

  app.openapi(listMembers, async (c) => {
    const principal = principalOf(c);
    requireRole(principal, ['admin', 'radiologist', 'programme'], 'read the consortium');
    return c.json({ members: await consortiumMembersList(deps.db) }, 200);
  });

  return app;
}
