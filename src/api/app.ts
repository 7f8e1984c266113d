import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { requestId, type RequestIdVariables } from 'hono/request-id';
import type { Principal } from '../access/principal.js';
import { cachedPrincipals } from '../access/principal-cache.js';
import type { Database } from '../db/client.js';
import type { DicomPeer } from '../shared/dicom-peer.js';
import { principalForToken } from '../db/repositories/users.js';
import type { IngestDeps } from '../ingest/store-instance.js';
import type { Logger } from '../logging/logger.js';
import { DomainError, type ErrorCode } from '../shared/errors.js';
import type { SeriesWorkflows } from '../temporal/series-workflows.js';
import { HTTP_STATUS_BY_CODE, type ErrorEnvelope } from './errors.js';
import { audit } from './audit.js';
import { authenticate } from './middleware/authenticate.js';
import { requestLogger } from './middleware/request-logger.js';
import { dicomwebRoutes } from './routes/dicomweb.js';
import { healthRoutes } from './routes/health.js';
import { imageRoutes } from './routes/images.js';
import { reportRoutes } from './routes/reports.js';
import { researchRoutes, type ResearchRouteDeps } from './routes/research.js';
import { seriesRoutes } from './routes/series.js';
import { studyRoutes } from './routes/studies.js';
import { userRoutes } from './routes/users.js';

export type AppEnv = { Variables: RequestIdVariables & { principal?: Principal } };

/** The authenticated caller; every route behind `authenticate` has one. */
export function principalOf(c: Context<AppEnv>): Principal {
  const principal = c.get('principal');
  if (!principal) throw new DomainError('UNAUTHENTICATED', 'a bearer token is required');
  return principal;
}

/** Each check resolves when its dependency answers and rejects with the reason otherwise. */
export interface ReadinessChecks {
  postgres: () => Promise<void>;
  temporal: () => Promise<void>;
}

export interface AppDeps {
  db: Database;
  seriesWorkflows: SeriesWorkflows;
  readiness: ReadinessChecks;
  logger: Logger;
  /** The one ingest path, for DICOMweb STOW-RS. */
  ingest: IngestDeps;
  /** Who holds a bearer token; the users and tokens in the database unless given (unit tests). */
  resolvePrincipal?: (token: string) => Promise<Principal | undefined>;
  /** DICOM nodes signed-off reports may be sent to (NODUS_DICOM_PEERS); none unless given. */
  dicomPeers?: readonly DicomPeer[];
  /** Research: the de-identification key, the freeze/export workflows and the export folder. */
  research?: Omit<ResearchRouteDeps, 'db' | 'blobs'>;
}

/** The nodus HTTP API. Pure wiring: no server, so tests call `app.request()` directly. */
export function createApp(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      if (result.success) return undefined;
      const details = result.error.issues.map((issue) => ({
        path: issue.path.join('.'),
        message: issue.message,
      }));
      const message = details.map((d) => `${d.path || 'request'}: ${d.message}`).join('; ');
      return c.json(envelope('VALIDATION_FAILED', message, c.get('requestId'), details), 400);
    },
  });

  app.use('*', requestId());
  app.use('*', requestLogger(deps.logger));
  app.use(
    '*',
    authenticate(deps.resolvePrincipal ?? cachedPrincipals((token) => principalForToken(deps.db, token))),
  );

  app.route('/', healthRoutes(deps.readiness));
  app.route('/', seriesRoutes(deps));
  app.route('/', studyRoutes(deps));
  app.route('/', imageRoutes({ db: deps.db, blobs: deps.ingest.blobs }));
  app.route('/', reportRoutes({ db: deps.db, blobs: deps.ingest.blobs, dicomPeers: deps.dicomPeers }));
  app.route('/', userRoutes(deps));
  app.route('/', researchRoutes({ db: deps.db, blobs: deps.ingest.blobs, ...deps.research }));
  app.route('/', dicomwebRoutes(deps));

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'nodus API',
      version: '0.1.0',
      description: 'AI-assisted lung cancer screening: series, findings, Lung-RADS, review.',
    },
  });

  app.notFound((c) =>
    c.json(envelope('NOT_FOUND', `no route for ${c.req.method} ${c.req.path}`, c.get('requestId')), 404),
  );

  app.onError(async (error, c) => {
    const id = c.get('requestId');
    if (error instanceof DomainError) {
      if (error.code === 'FORBIDDEN' || error.code === 'UNAUTHENTICATED') {
        // Refused access is itself an audit event: who tried what, from where.
        await audit(c, deps.db, {
          action: error.code === 'FORBIDDEN' ? 'access.denied' : 'access.unauthenticated',
          resourceType: 'route',
          resourceId: `${c.req.method} ${c.req.path}`,
          details: { reason: error.message, ...error.context },
        }).catch((auditError: unknown) => deps.logger.error({ err: auditError }, 'audit event not stored'));
        if (error.code === 'UNAUTHENTICATED') c.header('WWW-Authenticate', 'Bearer realm="nodus"');
      }
      return c.json(envelope(error.code, error.message, id), HTTP_STATUS_BY_CODE[error.code]);
    }
    if (error instanceof HTTPException && error.status < 500) {
      return c.json(envelope('VALIDATION_FAILED', error.message, id), 400);
    }
    deps.logger.error({ err: error, requestId: id }, 'unhandled error');
    return c.json(envelope('INTERNAL', 'internal error', id), 500);
  });

  return app;
}

function envelope(code: ErrorCode, message: string, requestId: string, details?: unknown): ErrorEnvelope {
  return { error: { code, message, requestId, ...(details !== undefined && { details }) } };
}
