import { dicomVisibility } from '../dicomweb/dicom-visibility.js';
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Database } from '../../db/client.js';
import {
  searchInstances,
  searchSeries,
  searchStudies,
  type QidoScope,
} from '../../db/repositories/dicomweb-query.js';
import { DomainError } from '../../shared/errors.js';
import type { AppEnv } from '../app.js';
import { audit } from '../audit.js';
import { acceptsDicomJson } from '../dicomweb/accept.js';
import { instanceAnswer, needsStoredMetadata, seriesAnswer, studyAnswer } from '../dicomweb/qido-answer.js';
import type { QidoLevel } from '../dicomweb/qido-attributes.js';
import { parseQidoQuery, type QidoQuery } from '../dicomweb/qido-query.js';
import { publicBaseUrl } from '../dicomweb/retrieve-urls.js';
import { fillMissingMetadata } from '../dicomweb/stored-metadata.js';
import type { BlobStore } from '../../storage/blob-store.js';
import { dicomUidParam, errorResponse } from '../schemas.js';
import { honoPath, uidParam } from '../dicomweb/path-params.js';

const DICOM_JSON = 'application/dicom+json';
const security = [{ bearer: [] }];

const answers = (what: string) => ({
  200: {
    content: { [DICOM_JSON]: { schema: z.array(z.record(z.string(), z.unknown())) } },
    description: `${what} as DICOM JSON (PS3.18 F.2); [] when nothing matches. Warning headers name ignored keys.`,
  },
  400: errorResponse('A malformed matching value, limit or offset, or an unknown attribute (named)'),
  401: errorResponse('No valid bearer token'),
  403: errorResponse('Researchers (identifying data)'),
  406: errorResponse('Accept allows no DICOM JSON'),
});

const queryDescription =
  'Matching keys as keywords or tags (PatientName=*smith*, 00100020=123, StudyDate=20240101-20241231, ' +
  'StudyInstanceUID=a\\b); includefield (tags, keywords or `all`), limit (at most 1000), offset.';

const StudyParams = z.object({ studyInstanceUid: dicomUidParam('studyInstanceUid') });
const SeriesParams = z.object({
  studyInstanceUid: dicomUidParam('studyInstanceUid'),
  seriesInstanceUid: dicomUidParam('seriesInstanceUid'),
});

const routes = {
  studies: createRoute({
    method: 'get',
    path: '/dicomweb/studies',
    summary: 'QIDO-RS Search for Studies',
    description: queryDescription,
    security,
    responses: answers('Matching studies'),
  }),
  allSeries: createRoute({
    method: 'get',
    path: '/dicomweb/series',
    summary: 'QIDO-RS Search for Series (of all studies)',
    description: queryDescription,
    security,
    responses: answers('Matching series'),
  }),
  studySeries: createRoute({
    method: 'get',
    path: '/dicomweb/studies/{studyInstanceUid}/series',
    summary: "QIDO-RS Search for a Study's Series",
    description: queryDescription,
    security,
    request: { params: StudyParams },
    responses: answers('Matching series of the study'),
  }),
  allInstances: createRoute({
    method: 'get',
    path: '/dicomweb/instances',
    summary: 'QIDO-RS Search for Instances (of all studies)',
    description: queryDescription,
    security,
    responses: answers('Matching instances'),
  }),
  studyInstances: createRoute({
    method: 'get',
    path: '/dicomweb/studies/{studyInstanceUid}/instances',
    summary: "QIDO-RS Search for a Study's Instances",
    description: queryDescription,
    security,
    request: { params: StudyParams },
    responses: answers('Matching instances of the study'),
  }),
  seriesInstances: createRoute({
    method: 'get',
    path: '/dicomweb/studies/{studyInstanceUid}/series/{seriesInstanceUid}/instances',
    summary: "QIDO-RS Search for a Series' Instances",
    description: queryDescription,
    security,
    request: { params: SeriesParams },
    responses: answers('Matching instances of the series'),
  }),
};

export interface DicomwebQueryDeps {
  db: Database;
  blobs: BlobStore;
  /** NODUS_PUBLIC_URL: the origin viewers reach nodus at, for RetrieveURL. */
  publicUrl?: string | undefined;
}

/** DICOMweb QIDO-RS (PS3.18 §10.6): answers from PostgreSQL, limited to the caller's institutions. */
export function dicomwebQueryRoutes(deps: DicomwebQueryDeps) {
  const app = new OpenAPIHono<AppEnv>();

  const run = async (
    c: Context<AppEnv>,
    level: QidoLevel,
    uids: { studyInstanceUid?: string; seriesInstanceUid?: string },
  ) => {
    const visibility = dicomVisibility(c, 'query', 'query DICOM objects');
    if (!acceptsDicomJson(c.req.header('accept'))) {
      throw new DomainError(
        'NOT_ACCEPTABLE',
        `QIDO-RS answers ${DICOM_JSON}; Accept was ${c.req.header('accept')}`,
      );
    }
    const query = parseQidoQuery(level, new URL(c.req.url).searchParams);
    const scope: QidoScope = {
      ...visibility,
      ...uids,
      withMetadata: needsStoredMetadata(query),
    };
    const base = publicBaseUrl(c.req.url, deps.publicUrl);
    const body = await answer(query, scope, base, uids);
    await audit(c, deps.db, {
      action: 'dicomweb.query',
      resourceType: level,
      resourceId: uids.seriesInstanceUid ?? uids.studyInstanceUid ?? '*',
      details: { query: new URL(c.req.url).search.slice(0, 500), results: body.length },
    });
    if (query.warnings.length > 0) {
      c.header('Warning', query.warnings.map((w) => `299 nodus "${w.replace(/"/g, "'")}"`).join(', '));
    }
    c.header('Cache-Control', 'private, no-store');
    return c.body(JSON.stringify(body), 200, { 'Content-Type': DICOM_JSON });
  };

  const answer = async (
    query: QidoQuery,
    scope: QidoScope,
    base: string,
    uids: { studyInstanceUid?: string; seriesInstanceUid?: string },
  ) => {
    switch (query.level) {
      case 'study':
        return (await searchStudies(deps.db, query, scope)).map((row) => studyAnswer(row, query, base));
      case 'series':
        return (await searchSeries(deps.db, query, scope)).map((row) =>
          seriesAnswer(row, query, base, uids.studyInstanceUid !== undefined),
        );
      case 'instance': {
        const rows = await searchInstances(deps.db, query, scope);
        if (scope.withMetadata) await fillMissingMetadata(deps, rows);
        const scoped = uids.seriesInstanceUid ? 'series' : uids.studyInstanceUid ? 'study' : 'none';
        return rows.map((row) => instanceAnswer(row, query, base, scoped));
      }
    }
  };

  // Registered for the OpenAPI document; served as plain routes (the answers are streamed DICOM JSON).
  const serve = (
    route: (typeof routes)[keyof typeof routes],
    handler: (c: Context<AppEnv>) => Promise<Response>,
  ) => {
    app.openAPIRegistry.registerPath(route);
    app.get(honoPath(route.path), handler);
  };
  serve(routes.studies, (c) => run(c, 'study', {}));
  serve(routes.allSeries, (c) => run(c, 'series', {}));
  serve(routes.studySeries, (c) => run(c, 'series', { studyInstanceUid: uidParam(c, 'studyInstanceUid') }));
  serve(routes.allInstances, (c) => run(c, 'instance', {}));
  serve(routes.studyInstances, (c) =>
    run(c, 'instance', { studyInstanceUid: uidParam(c, 'studyInstanceUid') }),
  );
  serve(routes.seriesInstances, (c) =>
    run(c, 'instance', {
      studyInstanceUid: uidParam(c, 'studyInstanceUid'),
      seriesInstanceUid: uidParam(c, 'seriesInstanceUid'),
    }),
  );
  return app;
}
