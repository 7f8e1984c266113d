import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { requireInstitution, requireRole } from '../../access/policy.js';
import type { Database } from '../../db/client.js';
import { findSeries, seriesInstitution } from '../../db/repositories/series.js';
import { latestSeriesFindings } from '../../db/repositories/findings.js';
import { latestVolume } from '../../db/repositories/volumes.js';
import { DomainError } from '../../shared/errors.js';
import { ROLES_SEEING_IDENTITY } from '../../shared/roles.js';
import { SERIES_STATUSES } from '../../shared/series-status.js';
import type { SeriesWorkflows } from '../../temporal/series-workflows.js';
import { principalOf, type AppEnv } from '../app.js';
import { audit } from '../audit.js';
import { CaliperAxesSchema, dicomUidParam, errorResponse } from '../schemas.js';

const SeriesParams = z.object({ seriesInstanceUid: dicomUidParam('seriesInstanceUid') });

const SeriesSchema = z
  .object({
    seriesInstanceUid: z.string(),
    studyInstanceUid: z.string(),
    status: z.enum(SERIES_STATUSES),
    instanceCount: z.number().int(),
    modality: z.string(),
    quality: z.array(
      z.object({
        code: z.string(),
        severity: z.enum(['caveat', 'reject', 'incomplete']),
        message: z.string(),
      }),
    ),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
    volume: z
      .object({
        dimensions: z.array(z.number().int()).openapi({ description: '[columns, rows, slices] (i, j, k)' }),
        spacing: z.array(z.number()).openapi({ description: 'voxel size along i, j, k, mm' }),
        origin: z
          .array(z.number())
          .openapi({ description: 'centre of voxel (0,0,0), DICOM patient frame LPS, mm' }),
        direction: z
          .array(z.number())
          .openapi({ description: 'row-major 3x3: unit vectors of the i, j, k axes in LPS' }),
      })
      .optional(),
    updatedAt: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('Series');

const getSeries = createRoute({
  method: 'get',
  path: '/api/series/{seriesInstanceUid}',
  summary: 'Status of one series',
  request: { params: SeriesParams },
  responses: {
    200: { content: { 'application/json': { schema: SeriesSchema } }, description: 'The series' },
    400: errorResponse('Invalid SeriesInstanceUID'),
    404: errorResponse('Unknown series'),
  },
});

const FindingSchema = z
  .object({
    ordinal: z.number().int().openapi({ description: 'rank within the run, 0 = highest score' }),
    centreLps: z.array(z.number()).openapi({ description: 'centre of the segmentation, LPS mm' }),
    boundingBoxIjk: z.array(z.number().int()).openapi({
      description: '[iMin, jMin, kMin, iMax, jMax, kMax] voxel indices of the volume, inclusive',
    }),
    longAxisMm: z.number().openapi({ description: 'longest axial diameter, mm' }),
    shortAxisMm: z
      .number()
      .openapi({ description: 'longest axial diameter perpendicular to the long axis, mm' }),
    axesLps: CaliperAxesSchema.nullable(),
    meanDiameterMm: z.number().openapi({ description: '(long + short) / 2 to 0.1 mm: the Lung-RADS size' }),
    volumeMm3: z.number(),
    meanHu: z.number(),
    type: z.enum(['solid', 'part-solid', 'ground-glass']),
    solidComponentMm: z
      .number()
      .nullable()
      .openapi({ description: 'mean diameter of the solid component, mm' }),
    score: z.number().openapi({ description: "the detector's probability that this is a nodule" }),
    maskBlobKey: z
      .string()
      .nullable()
      .openapi({ description: 'NIfTI-1 mask of the nodule (its bounding box)' }),
  })
  .openapi('Finding');

const SeriesFindingsSchema = z
  .object({
    seriesInstanceUid: z.string(),
    status: z.enum(SERIES_STATUSES),
    run: z
      .object({
        id: z.string(),
        model: z.object({ id: z.string(), version: z.string(), sha256: z.string() }),
        parameters: z.record(z.string(), z.unknown()),
        timingsMs: z.record(z.string(), z.number()).nullable(),
        finishedAt: z.string().nullable(),
      })
      .nullable()
      .openapi({ description: 'the inference run the findings come from; null before detection ran' }),
    findings: z.array(FindingSchema),
  })
  .openapi('SeriesFindings');

const getFindings = createRoute({
  method: 'get',
  path: '/api/series/{seriesInstanceUid}/findings',
  summary: 'AI findings of a series (newest run on its newest volume)',
  request: { params: SeriesParams },
  responses: {
    200: { content: { 'application/json': { schema: SeriesFindingsSchema } }, description: 'The findings' },
    400: errorResponse('Invalid SeriesInstanceUID'),
    404: errorResponse('Unknown series'),
  },
});

const processSeries = createRoute({
  method: 'post',
  path: '/api/series/{seriesInstanceUid}/process',
  summary: 'Start (or join) the processSeries workflow of a stored series',
  request: { params: SeriesParams },
  responses: {
    202: {
      content: {
        'application/json': {
          schema: z.object({ workflowId: z.string(), runId: z.string() }).openapi('WorkflowStarted'),
        },
      },
      description: 'Processing started, or already running (same workflow)',
    },
    400: errorResponse('Invalid SeriesInstanceUID'),
    404: errorResponse('Unknown series'),
  },
});

export interface SeriesRouteDeps {
  db: Database;
  seriesWorkflows: SeriesWorkflows;
}

export function seriesRoutes({ db, seriesWorkflows }: SeriesRouteDeps) {
  /** The series, after checking the caller may see identified data of its institution (404, 403). */
  const load = async (c: Context<AppEnv>, seriesInstanceUid: string, what = 'read series') => {
    const principal = principalOf(c);
    requireRole(principal, ROLES_SEEING_IDENTITY, what);
    const found = await findSeries(db, seriesInstanceUid);
    const owner = found && (await seriesInstitution(db, seriesInstanceUid));
    if (!found || !owner)
      throw new DomainError('SERIES_NOT_FOUND', `series ${seriesInstanceUid} is not known`);
    requireInstitution(principal, owner, what);
    await audit(c, db, {
      action: `series.${what.split(' ')[0]}`,
      resourceType: 'series',
      resourceId: seriesInstanceUid,
    });
    return found;
  };
  return new OpenAPIHono<AppEnv>()
    .openapi(getSeries, async (c) => {
      const { seriesInstanceUid } = c.req.valid('param');
      const { error, updatedAt, ...rest } = await load(c, seriesInstanceUid);
      const volume = await latestVolume(db, seriesInstanceUid);
      return c.json(
        {
          ...rest,
          ...(error && { error }),
          ...(volume && {
            volume: {
              dimensions: volume.dimensions,
              spacing: volume.spacingMm,
              origin: volume.originLps,
              direction: volume.direction,
            },
          }),
          updatedAt: updatedAt.toISOString(),
        },
        200,
      );
    })
    .openapi(getFindings, async (c) => {
      const { seriesInstanceUid } = c.req.valid('param');
      const { status } = await load(c, seriesInstanceUid);
      const latest = await latestSeriesFindings(db, seriesInstanceUid);
      return c.json(
        {
          seriesInstanceUid,
          status,
          run: latest
            ? {
                id: latest.run.id,
                model: latest.run.model,
                parameters: latest.run.parameters,
                timingsMs: latest.run.timings,
                finishedAt: latest.run.finishedAt?.toISOString() ?? null,
              }
            : null,
          findings: latest?.findings ?? [],
        },
        200,
      );
    })
    .openapi(processSeries, async (c) => {
      const { seriesInstanceUid } = c.req.valid('param');
      requireRole(principalOf(c), ['admin', 'radiologist'], 'start processing');
      await load(c, seriesInstanceUid, 'process series');
      return c.json(await seriesWorkflows.start(seriesInstanceUid), 202);
    });
}
