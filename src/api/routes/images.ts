import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { and, eq } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { latestVolumeOfStudySeries } from '../../db/repositories/volumes.js';
import { findings, reviewedNodules } from '../../db/schema/index.js';
import { DomainError } from '../../shared/errors.js';
import type { BlobStore } from '../../storage/blob-store.js';
import { DISPLAY_WINDOWS, windowedAxialSlice } from '../../volume/display-window.js';
import { encodeGrayscalePng } from '../../volume/grayscale-png.js';
import { principalOf, type AppEnv } from '../app.js';
import { audit } from '../audit.js';
import { authorizeStudy } from '../study-access.js';
import { errorResponse } from '../schemas.js';
import { VolumeCache } from '../volume-cache.js';

/** Most slices one slab request returns (64 x 512 x 512 int16 = 32 MiB). */
const MAX_SLAB_SLICES = 64;

const security = [{ bearer: [] }];
const errors = {
  400: errorResponse('Invalid request'),
  401: errorResponse('No valid bearer token'),
  403: errorResponse('Not allowed for this institution'),
  404: errorResponse('Unknown study, series, slice or nodule, or no volume yet'),
};
const SeriesParams = z.object({
  studyId: z.guid().openapi({ param: { name: 'studyId', in: 'path' } }),
  seriesId: z.guid().openapi({ param: { name: 'seriesId', in: 'path' } }),
});

const slicePng = createRoute({
  method: 'get',
  path: '/api/studies/{studyId}/series/{seriesId}/slices/{k}',
  summary: 'Axial slice k of the series volume as a windowed 8-bit PNG (rows j, columns i)',
  security,
  request: {
    params: SeriesParams.extend({
      k: z.coerce
        .number()
        .int()
        .min(0)
        .openapi({ param: { name: 'k', in: 'path' }, description: 'slice index' }),
    }),
    query: z.object({
      window: z.enum(['lung', 'mediastinal', 'bone']).default('lung'),
      center: z.coerce.number().min(-2000).max(4000).optional().openapi({ description: 'window centre, HU' }),
      width: z.coerce.number().min(1).max(8000).optional().openapi({ description: 'window width, HU' }),
    }),
  },
  responses: {
    200: {
      content: { 'image/png': { schema: z.string().openapi({ format: 'binary' }) } },
      description: 'PNG',
    },
    ...errors,
  },
});

const slab = createRoute({
  method: 'get',
  path: '/api/studies/{studyId}/series/{seriesId}/slab',
  summary: 'Raw int16 little-endian HU of slices first..first+count-1 (index i + nx*(j + ny*k)), for viewers',
  security,
  request: {
    params: SeriesParams,
    query: z.object({
      first: z.coerce.number().int().min(0).default(0),
      count: z.coerce.number().int().min(1).max(MAX_SLAB_SLICES).default(1),
    }),
  },
  responses: {
    200: {
      content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } },
      description:
        'Voxels; headers X-Volume-Dimensions (nx,ny,nz), X-Slab-First, X-Slab-Count, X-Spacing-Mm, X-Origin-Lps, X-Direction',
    },
    ...errors,
  },
});

const noduleMask = createRoute({
  method: 'get',
  path: '/api/studies/{studyId}/nodules/{noduleId}/mask',
  summary: "The AI nodule's segmentation mask, NIfTI-1 over its bounding box (1 = nodule)",
  security,
  request: {
    params: z.object({
      studyId: z.guid().openapi({ param: { name: 'studyId', in: 'path' } }),
      noduleId: z.guid().openapi({ param: { name: 'noduleId', in: 'path' } }),
    }),
  },
  responses: {
    200: {
      content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } },
      description: 'NIfTI-1',
    },
    ...errors,
  },
});

/** Pixels for viewing: windowed PNG slices, raw slabs and nodule masks. Every read is audited. */
export function imageRoutes(deps: { db: Database; blobs: BlobStore }) {
  const cache = new VolumeCache(deps.blobs);
  const app = new OpenAPIHono<AppEnv>();

  const volumeOf = async (studyId: string, seriesId: string) => {
    const record = await latestVolumeOfStudySeries(deps.db, studyId, seriesId);
    if (!record) throw new DomainError('NOT_FOUND', `series ${seriesId} of study ${studyId} has no volume`);
    return cache.get(record);
  };

  app.openapi(slicePng, async (c) => {
    const { studyId, seriesId, k } = c.req.valid('param');
    const query = c.req.valid('query');
    await authorizeStudy(deps.db, principalOf(c), studyId, 'view images', 'allowed');
    const volume = await volumeOf(studyId, seriesId);
    const [nx, ny, nz] = volume.dimensions;
    if (k >= nz) throw new DomainError('NOT_FOUND', `slice ${k} is outside 0..${nz - 1}`);
    const window =
      query.center !== undefined && query.width !== undefined
        ? { centerHu: query.center, widthHu: query.width }
        : DISPLAY_WINDOWS[query.window];
    const png = encodeGrayscalePng(nx, ny, windowedAxialSlice(volume, k, window));
    await audit(c, deps.db, {
      action: 'image.read',
      resourceType: 'series',
      resourceId: seriesId,
      details: { studyId, slice: k, format: 'png' },
    });
    return c.body(new Uint8Array(png), 200, {
      'Content-Type': 'image/png',
      'Cache-Control': 'private, no-store',
    });
  });

  app.openapi(slab, async (c) => {
    const { studyId, seriesId } = c.req.valid('param');
    const { first, count } = c.req.valid('query');
    await authorizeStudy(deps.db, principalOf(c), studyId, 'view images', 'allowed');
    const volume = await volumeOf(studyId, seriesId);
    const [nx, ny, nz] = volume.dimensions;
    if (first + count > nz) {
      throw new DomainError('NOT_FOUND', `slices ${first}..${first + count - 1} exceed 0..${nz - 1}`);
    }
    const voxels = volume.hu.subarray(first * nx * ny, (first + count) * nx * ny);
    const bytes = new Uint8Array(voxels.buffer, voxels.byteOffset, voxels.byteLength).slice();
    await audit(c, deps.db, {
      action: 'image.read',
      resourceType: 'series',
      resourceId: seriesId,
      details: { studyId, first, count, format: 'int16' },
    });
    return c.body(bytes, 200, {
      'Content-Type': 'application/octet-stream',
      'Cache-Control': 'private, no-store',
      'X-Volume-Dimensions': `${nx},${ny},${nz}`,
      'X-Slab-First': String(first),
      'X-Slab-Count': String(count),
      'X-Spacing-Mm': volume.spacingMm.join(','),
      'X-Origin-Lps': volume.originLps.join(','),
      'X-Direction': volume.direction.join(','),
    });
  });

  app.openapi(noduleMask, async (c) => {
    const { studyId, noduleId } = c.req.valid('param');
    await authorizeStudy(deps.db, principalOf(c), studyId, 'view masks', 'allowed');
    const [row] = await deps.db
      .select({ maskBlobKey: findings.maskBlobKey })
      .from(reviewedNodules)
      .innerJoin(findings, eq(findings.id, reviewedNodules.findingId))
      .where(and(eq(reviewedNodules.id, noduleId), eq(reviewedNodules.studyId, studyId)));
    if (!row?.maskBlobKey)
      throw new DomainError('NOT_FOUND', `nodule ${noduleId} has no AI mask in study ${studyId}`);
    const bytes = await deps.blobs.get(row.maskBlobKey);
    await audit(c, deps.db, {
      action: 'mask.read',
      resourceType: 'nodule',
      resourceId: noduleId,
      details: { studyId },
    });
    return c.body(new Uint8Array(bytes), 200, {
      'Content-Type': 'application/octet-stream',
      'Content-Disposition': `attachment; filename="nodule-${noduleId}.nii"`,
    });
  });

  return app;
}
