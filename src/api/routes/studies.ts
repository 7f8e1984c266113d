import type { Logger } from '../../logging/logger.js';
import { storeSignedOffObjects } from '../../ingest/store-signed-off-objects.js';
import type { BlobStore } from '../../storage/blob-store.js';
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import {
  requireRole,
  requireStudy,
  seesIdentity,
  seesInstitution,
  visibleInstitutions,
} from '../../access/policy.js';
import type { Database } from '../../db/client.js';
import { applyReviewAction, reviewHistory } from '../../db/repositories/review-actions.js';
import { studyDetail, type StudyDetail } from '../../db/repositories/study-detail.js';
import { worklist } from '../../db/repositories/worklist.js';
import { STUDY_REVIEW_STATUSES } from '../../shared/review.js';
import { DomainError } from '../../shared/errors.js';
import { LUNG_RADS_CATEGORIES } from '../../shared/lung-rads-category.js';
import { REJECT_REASONS } from '../../shared/review.js';
import { REVIEWER_ROLES } from '../../shared/roles.js';
import { principalOf, type AppEnv } from '../app.js';
import { audit } from '../audit.js';
import { authorizeStudy } from '../study-access.js';
import { CaliperAxesSchema, errorResponse } from '../schemas.js';

const security = [{ bearer: [] }];
const readErrors = {
  400: errorResponse('Invalid request'),
  401: errorResponse('No valid bearer token'),
  403: errorResponse('Not allowed for this role or institution'),
};
const Category = z.enum(LUNG_RADS_CATEGORIES);
const NoduleTypeSchema = z.enum(['solid', 'part-solid', 'ground-glass']);
const StudyParams = z.object({
  studyId: z.guid().openapi({ param: { name: 'studyId', in: 'path' } }),
});
const IdentitySchema = z
  .object({
    studyInstanceUid: z.string(),
    accessionNumber: z.string().nullable(),
    patientId: z.string(),
    patientName: z.string().nullable(),
    patientBirthDate: z.string().nullable(),
    patientSex: z.string().nullable(),
  })
  .nullable()
  .openapi({ description: 'identifying data; null for researchers' });

const csv = <T extends z.ZodTypeAny>(item: T) =>
  z.preprocess((v) => (typeof v === 'string' ? v.split(',').filter(Boolean) : v), z.array(item).optional());

const WorklistQuerySchema = z.object({
  institution: z.string().min(1).max(64).optional().openapi({ description: 'institution code' }),
  status: csv(z.enum(STUDY_REVIEW_STATUSES)).openapi({
    type: 'string',
    description: 'comma-separated statuses',
  }),
  category: csv(Category).openapi({ type: 'string', description: 'comma-separated Lung-RADS categories' }),
  from: z.iso.date().optional().openapi({ description: 'StudyDate from, inclusive (YYYY-MM-DD)' }),
  to: z.iso.date().optional().openapi({ description: 'StudyDate to, inclusive (YYYY-MM-DD)' }),
  cursor: z.string().max(400).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

const WorklistItemSchema = z
  .object({
    studyId: z.string(),
    institutionCode: z.string(),
    status: z.enum(STUDY_REVIEW_STATUSES),
    category: Category.nullable(),
    aiCategory: Category.nullable(),
    finalCategory: Category.nullable(),
    waitingSince: z.string(),
    studyDate: z.string().nullable(),
    version: z.number().int(),
    noduleCount: z.number().int(),
    secondRead: z.boolean().openapi({
      description: "Another institution's study, shared with the caller's for a second read",
    }),
    identity: IdentitySchema,
  })
  .openapi('WorklistItem');

const getWorklist = createRoute({
  method: 'get',
  path: '/api/worklist',
  summary: 'Studies ordered for triage: highest Lung-RADS category first, then longest waiting',
  security,
  request: { query: WorklistQuerySchema },
  responses: {
    200: {
      content: {
        'application/json': {
          schema: z.object({ items: z.array(WorklistItemSchema), nextCursor: z.string().nullable() }),
        },
      },
      description: 'One page of the worklist',
    },
    ...readErrors,
  },
});

const getStudy = createRoute({
  method: 'get',
  path: '/api/studies/{studyId}',
  summary: 'A study: series, nodules with measurements, priors, Lung-RADS result and its rules',
  security,
  request: { params: StudyParams },
  responses: {
    200: {
      content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } },
      description:
        "The study; `secondRead`: another institution's, shared with the caller's for a second read",
    },
    ...readErrors,
    404: errorResponse('Unknown study'),
  },
});

const getHistory = createRoute({
  method: 'get',
  path: '/api/studies/{studyId}/review-actions',
  summary: "The study's review log: every action with who and when, oldest first",
  security,
  request: { params: StudyParams },
  responses: {
    200: {
      content: {
        'application/json': { schema: z.object({ actions: z.array(z.record(z.string(), z.unknown())) }) },
      },
      description: 'Log',
    },
    ...readErrors,
    404: errorResponse('Unknown study'),
  },
});

const Version = z
  .number()
  .int()
  .min(0)
  .openapi({ description: "the study's version the client acted on (409 when stale)" });
const Comment = z.string().max(2000).optional();
const Measurements = z.object({
  centreLps: z.tuple([z.number(), z.number(), z.number()]).optional().openapi({ description: 'LPS mm' }),
  longAxisMm: z.number().positive().max(300).optional(),
  shortAxisMm: z.number().positive().max(300).optional(),
  axesLps: CaliperAxesSchema.optional().openapi({
    description:
      "the caliper's end points (they must span longAxisMm and shortAxisMm within 0.5 mm); an edit that changes a length without them clears the stored ones",
  }),
  type: NoduleTypeSchema.optional(),
  solidComponentMm: z.number().positive().max(300).nullable().optional(),
  volumeMm3: z.number().positive().nullable().optional(),
  juxtapleural: z.boolean().optional(),
  calcifiedBenign: z.boolean().optional(),
  suspiciousFeatures: z.boolean().optional(),
});
const ReviewActionSchema = z
  .discriminatedUnion('action', [
    z.object({
      action: z.literal('accept'),
      version: Version,
      noduleId: z.guid(),
      comment: Comment,
    }),
    z.object({
      action: z.literal('reject'),
      version: Version,
      noduleId: z.guid(),
      reason: z.enum(REJECT_REASONS),
      comment: Comment,
    }),
    z.object({
      action: z.literal('edit'),
      version: Version,
      noduleId: z.guid(),
      changes: Measurements.refine((m) => Object.keys(m).length > 0, 'at least one change'),
      comment: Comment,
    }),
    z.object({
      action: z.literal('add'),
      version: Version,
      seriesId: z.guid(),
      nodule: Measurements.required({ centreLps: true, longAxisMm: true, shortAxisMm: true, type: true }),
      comment: Comment,
    }),
    z.object({ action: z.literal('sign-off'), version: Version, finalCategory: Category, comment: Comment }),
  ])
  .openapi('ReviewAction');

const postAction = createRoute({
  method: 'post',
  path: '/api/studies/{studyId}/review-actions',
  summary: 'Accept, reject, edit or add a nodule, or sign the study off (radiologists)',
  security,
  request: {
    params: StudyParams,
    body: { content: { 'application/json': { schema: ReviewActionSchema } }, required: true },
  },
  responses: {
    201: {
      content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } },
      description: 'Applied',
    },
    ...readErrors,
    404: errorResponse('Unknown study or nodule'),
    409: errorResponse('The study changed since `version`, is signed off, or has pending nodules'),
  },
});

function detailView(detail: StudyDetail, identity: boolean) {
  return {
    studyId: detail.studyId,
    institutionCode: detail.institutionCode,
    studyDate: identity ? detail.studyDate : null,
    studyDescription: detail.studyDescription,
    identity: identity
      ? {
          studyInstanceUid: detail.studyInstanceUid,
          accessionNumber: detail.accessionNumber,
          patientId: detail.patientId,
          patientName: detail.patientName,
          patientBirthDate: detail.patientBirthDate,
          patientSex: detail.patientSex,
        }
      : null,
    review: detail.review && {
      status: detail.review.status,
      version: detail.review.version,
      category: detail.review.category,
      aiCategory: detail.review.aiCategory,
      finalCategory: detail.review.finalCategory,
      signedOffBy: detail.review.signedOffBy,
      signedOffAt: detail.review.signedOffAt,
      waitingSince: detail.review.waitingSince,
      lungRads: identity ? detail.review.lungRads : withoutPriorIdentity(detail.review.lungRads),
    },
    series: detail.series.map((s) => ({
      ...s,
      seriesInstanceUid: identity ? s.seriesInstanceUid : null,
    })),
    nodules: detail.nodules.map(({ nodule, ai }) => ({
      noduleId: nodule.id,
      seriesId: nodule.seriesId,
      origin: nodule.origin,
      decision: nodule.decision,
      rejectReason: nodule.rejectReason,
      edited: nodule.edited,
      centreLps: nodule.centreLps,
      longAxisMm: nodule.longAxisMm,
      shortAxisMm: nodule.shortAxisMm,
      axesLps: nodule.axesLps,
      meanDiameterMm: nodule.meanDiameterMm,
      volumeMm3: nodule.volumeMm3,
      type: nodule.type,
      solidComponentMm: nodule.solidComponentMm,
      juxtapleural: nodule.juxtapleural,
      calcifiedBenign: nodule.calcifiedBenign,
      suspiciousFeatures: nodule.suspiciousFeatures,
      ai: nodule.findingId === null || !ai ? null : identity ? ai : withoutBlobKey(ai),
      hasMask: ai?.maskBlobKey != null && nodule.findingId !== null,
    })),
    priors: detail.otherStudies.map((o) => ({ ...o, studyDate: identity ? o.studyDate : null })),
  };
}

/** The AI's measurements without the mask's blob key (which names the source SeriesInstanceUID). */
function withoutBlobKey<T extends { maskBlobKey: unknown }>({ maskBlobKey: _key, ...measured }: T) {
  return measured;
}

/** The Lung-RADS result with its prior's comparison but not the prior's StudyInstanceUID or date. */
function withoutPriorIdentity(lungRads: Record<string, unknown> | null) {
  const prior = lungRads?.prior;
  if (!lungRads || !prior || typeof prior !== 'object') return lungRads;
  const { studyInstanceUid: _uid, studyDate: _date, ...comparison } = prior as Record<string, unknown>;
  return { ...lungRads, prior: comparison };
}

/** The radiologists' worklist, study detail and review actions. */
export function studyRoutes(deps: { db: Database; ingest?: { blobs: BlobStore }; logger?: Logger }) {
  const app = new OpenAPIHono<AppEnv>();

  app.openapi(getWorklist, async (c) => {
    const principal = principalOf(c);
    const q = c.req.valid('query');
    const page = await worklist(deps.db, {
      visibleInstitutionIds: visibleInstitutions(principal),
      sharedStudyIds: principal.sharedStudyIds,
      institutionCode: q.institution,
      status: q.status,
      category: q.category,
      studyDateFrom: q.from,
      studyDateTo: q.to,
      cursor: q.cursor,
      limit: q.limit,
    });
    const identity = seesIdentity(principal);
    await audit(c, deps.db, {
      action: 'worklist.read',
      resourceType: 'worklist',
      resourceId: '*',
      details: { studies: page.items.length, query: q },
    });
    return c.json(
      {
        items: page.items.map((r) => ({
          studyId: r.studyId,
          institutionCode: r.institutionCode,
          status: r.status,
          category: r.category,
          aiCategory: r.aiCategory,
          finalCategory: r.finalCategory,
          waitingSince: new Date(r.waitingSince).toISOString(),
          studyDate: identity ? r.studyDate : null,
          version: r.version,
          noduleCount: r.noduleCount,
          // Listed, yet not of the caller's institutions: shared with them for a second read.
          secondRead: !seesInstitution(principal, r.institutionId),
          identity: identity
            ? {
                studyInstanceUid: r.studyInstanceUid,
                accessionNumber: r.accessionNumber,
                patientId: r.patientId,
                patientName: r.patientName,
                patientBirthDate: r.patientBirthDate,
                patientSex: r.patientSex,
              }
            : null,
        })),
        nextCursor: page.nextCursor,
      },
      200,
    );
  });

  app.openapi(getStudy, async (c) => {
    const principal = principalOf(c);
    const { studyId } = c.req.valid('param');
    // One read serves both the access check and the answer.
    const detail = await studyDetail(deps.db, studyId);
    if (!detail) throw new DomainError('NOT_FOUND', `study ${studyId} is unknown`);
    requireStudy(principal, { studyId, institutionId: detail.institutionId }, 'read studies');
    await audit(c, deps.db, { action: 'study.read', resourceType: 'study', resourceId: studyId });
    // Not of the caller's institutions, yet visible: shared with theirs for a second read. The partner
    // sees that study alone: the patient's other studies at the sender stay the sender's.
    const secondRead = !seesInstitution(principal, detail.institutionId);
    const view = detailView(detail, seesIdentity(principal));
    return c.json(
      secondRead
        ? {
            ...view,
            priors: [],
            review: view.review && { ...view.review, lungRads: withoutPriorIdentity(view.review.lungRads) },
            secondRead,
          }
        : { ...view, secondRead },
      200,
    );
  });

  app.openapi(getHistory, async (c) => {
    const principal = principalOf(c);
    const { studyId } = c.req.valid('param');
    await authorizeStudy(deps.db, principal, studyId, 'read review logs', 'allowed');
    const actions = await reviewHistory(deps.db, studyId);
    await audit(c, deps.db, { action: 'study.review-log.read', resourceType: 'study', resourceId: studyId });
    return c.json({ actions }, 200);
  });

  app.openapi(postAction, async (c) => {
    const principal = principalOf(c);
    requireRole(principal, REVIEWER_ROLES, 'review studies');
    const { studyId } = c.req.valid('param');
    await authorizeStudy(deps.db, principal, studyId, 'review studies');
    const { version, ...action } = c.req.valid('json');
    const result = await applyReviewAction(
      deps.db,
      { studyId, expectedVersion: version, actorUserId: principal.userId, requestId: c.get('requestId') },
      action,
    );
    await audit(c, deps.db, {
      action: `review.${action.action}`,
      resourceType: 'study',
      resourceId: studyId,
      details: { version: result.version, ...('noduleId' in action && { noduleId: action.noduleId }) },
    });
    if (action.action === 'sign-off' && deps.ingest) {
      // The signed-off SR and SEG become series of the study (DICOMweb, C-FIND, viewers). The sign-off
      // stands if this fails: GET .../sr and .../seg still write them on demand.
      await storeSignedOffObjects({ db: deps.db, blobs: deps.ingest.blobs }, studyId).catch(
        (error: unknown) =>
          deps.logger?.error({ err: error, studyId }, 'signed-off SR/SEG not stored as instances'),
      );
    }
    return c.json(result, 201);
  });

  return app;
}
