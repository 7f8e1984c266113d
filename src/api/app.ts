import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { cors } from 'hono/cors';
import { HTTPException } from 'hono/http-exception';
import { requestId, type RequestIdVariables } from 'hono/request-id';
import {
  DEFAULT_AUTH_FAILURE_LIMITS,
  authFailureLimiter,
  type AuthFailureLimits,
} from '../access/auth-failure-limiter.js';
import { withoutInternalReferences } from '../access/internal-references.js';
import { seesIdentity } from '../access/policy.js';
import type { Principal } from '../access/principal.js';
import type { ShareGrant } from '../sharing/share-scope.js';
import { cachedPrincipals } from '../access/principal-cache.js';
import type { Database } from '../db/client.js';
import type { DicomPeer } from '../shared/dicom-peer.js';
import { principalForToken } from '../db/repositories/users.js';
import type { IngestDeps } from '../ingest/store-instance.js';
import type { Logger } from '../logging/logger.js';
import { DomainError, type ErrorCode } from '../shared/errors.js';
import type { SeriesWorkflows } from '../temporal/series-workflows.js';
import type { ShareWorkflows } from '../temporal/share-workflows.js';
import { HTTP_STATUS_BY_CODE, type ErrorEnvelope } from './errors.js';
import { audit, auditAuthFailures } from './audit.js';
import { dependencyUnavailable, unavailableDependency } from './dependency-errors.js';
import { authenticate, type SessionLookup } from './middleware/authenticate.js';
import { principalForSession } from '../db/repositories/browser-sessions.js';
import { grantForSession } from '../db/repositories/shares.js';
import { sessionRoutes } from './routes/session.js';
import { workspaceRoutes } from './routes/workspace.js';
import { DEFAULT_MAX_JSON_BYTES, jsonBodyLimit } from './middleware/json-body-limit.js';
import { requestLogger } from './middleware/request-logger.js';
import { dicomwebRoutes } from './routes/dicomweb.js';
import { dicomwebQueryRoutes } from './routes/dicomweb-query.js';
import { dicomwebRetrieveRoutes } from './routes/dicomweb-retrieve.js';
import { wadoUriRoutes } from './routes/wado-uri.js';
import { healthRoutes } from './routes/health.js';
import { imageRoutes } from './routes/images.js';
import { reportRoutes } from './routes/reports.js';
import { researchRoutes, type ResearchRouteDeps } from './routes/research.js';
import { seriesRoutes } from './routes/series.js';
import { studyRoutes } from './routes/studies.js';
import { userRoutes } from './routes/users.js';
import { shareRoutes } from './routes/shares.js';
import { filmRoutes } from './routes/film.js';
import { filmPageRoutes } from './routes/film-page.js';

export type AppEnv = {
  Variables: RequestIdVariables & {
    principal?: Principal;
    session?: SessionLookup['session'];
    /** A share's viewer session (a patient's film): what it may see; no principal then. */
    grant?: ShareGrant;
    /** That session's CSRF token, which its writes must echo. */
    grantCsrfToken?: string;
  };
};

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
  /** Shares' durable timers (expiry, second-read due); without them (unit tests) shares still expire on time. */
  shareWorkflows?: ShareWorkflows;
  readiness: ReadinessChecks;
  logger: Logger;
  /** The one ingest path, for DICOMweb STOW-RS. */
  ingest: IngestDeps;
  /** Who holds a bearer token; the users and tokens in the database unless given (unit tests). */
  resolvePrincipal?: (token: string) => Promise<Principal | undefined>;
  /** DICOM nodes signed-off reports may be sent to (NODUS_DICOM_PEERS); none unless given. */
  dicomPeers?: readonly DicomPeer[];
  /** NODUS_PUBLIC_URL: the origin clients reach nodus at (URLs in DICOMweb answers); the request's unless given. */
  publicUrl?: string | undefined;
  /** The OHIF viewer's port once it listens (the workspace links studies to it); none unless given. */
  viewerPort?: () => number | undefined;
  /** NODUS_CORS_ORIGINS: browser origins (a viewer served elsewhere) allowed to call nodus; none unless given. */
  corsOrigins?: readonly string[];
  /** Request body limits, bytes: STOW-RS bodies (streamed) and every other body (JSON). */
  bodyLimits?: { stowMaxRequestBytes?: number; maxJsonBytes?: number };
  /** Research: the de-identification key, the freeze/export workflows and the export folder. */
  research?: Omit<ResearchRouteDeps, 'db' | 'blobs'>;
  /** Failed authentications per client address (NODUS_AUTH_*); 10 a minute unless given. `now`: tests. */
  authFailures?: AuthFailureLimits & { now?: () => number };
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
  // A viewer served from another origin (NODUS_CORS_ORIGINS): preflights are answered before authentication.
  if (deps.corsOrigins && deps.corsOrigins.length > 0) {
    const origins = deps.corsOrigins;
    app.use(
      '*',
      cors({
        origin: origins.includes('*') ? '*' : [...origins],
        allowHeaders: ['Authorization', 'Content-Type', 'Accept', 'X-CSRF-Token'],
        allowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
        exposeHeaders: ['Warning', 'Content-Location', 'Content-Type', 'Content-Length', 'X-Request-Id'],
        maxAge: 600,
      }),
    );
  }
  // Repeated failures of an address: one audit event per window (the first failure is audited by onError).
  const authFailures = authFailureLimiter(deps.authFailures ?? DEFAULT_AUTH_FAILURE_LIMITS, {
    now: deps.authFailures?.now,
    onSummary: (summary) =>
      void auditAuthFailures(deps.db, summary).catch((auditError: unknown) =>
        deps.logger.error({ err: auditError }, 'audit event not stored'),
      ),
  });
  app.use(
    '*',
    authenticate(
      deps.resolvePrincipal ?? cachedPrincipals((token) => principalForToken(deps.db, token)),
      authFailures,
      (secret) => principalForSession(deps.db, secret),
      (secret) => grantForSession(deps.db, secret),
    ),
  );

  app.use('*', jsonBodyLimit(deps.bodyLimits?.maxJsonBytes ?? DEFAULT_MAX_JSON_BYTES));

  app.route('/', healthRoutes(deps.readiness, deps.logger));
  app.route('/', sessionRoutes(deps));
  app.route('/', workspaceRoutes({ viewerPort: deps.viewerPort }));
  app.route('/', seriesRoutes(deps));
  app.route('/', studyRoutes(deps));
  app.route('/', imageRoutes({ db: deps.db, blobs: deps.ingest.blobs }));
  app.route('/', reportRoutes({ db: deps.db, blobs: deps.ingest.blobs, dicomPeers: deps.dicomPeers }));
  app.route('/', userRoutes(deps));
  app.route('/', shareRoutes(deps));
  app.route(
    '/',
    filmRoutes({
      db: deps.db,
      blobs: deps.ingest.blobs,
      publicUrl: deps.publicUrl,
      authFailures,
      shareWorkflows: deps.shareWorkflows,
      logger: deps.logger,
    }),
  );
  app.route('/', filmPageRoutes({ db: deps.db, authFailures }));
  app.route('/', researchRoutes({ db: deps.db, blobs: deps.ingest.blobs, ...deps.research }));
  app.route('/', dicomwebRoutes({ ...deps, stowMaxRequestBytes: deps.bodyLimits?.stowMaxRequestBytes }));
  const dicomweb = { db: deps.db, blobs: deps.ingest.blobs, publicUrl: deps.publicUrl };
  app.route('/', dicomwebQueryRoutes(dicomweb));
  app.route('/', dicomwebRetrieveRoutes(dicomweb));
  app.route('/', wadoUriRoutes(dicomweb));

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

  app.onError(async (thrown, c) => {
    const id = c.get('requestId');
    // A database or Temporal that is down is a 503 naming it, never a 500 with its address.
    const dependency = unavailableDependency(thrown);
    if (dependency) deps.logger.warn({ err: thrown, requestId: id, dependency }, 'dependency unavailable');
    const error = dependency ? dependencyUnavailable(dependency, thrown) : thrown;
    if (error instanceof DomainError) {
      const aggregated = error.context.aggregated === true; // audited in the limiter's summary
      if ((error.code === 'FORBIDDEN' || error.code === 'UNAUTHENTICATED') && !aggregated) {
        // Refused access is itself an audit event: who tried what, from where.
        await audit(c, deps.db, {
          action: error.code === 'FORBIDDEN' ? 'access.denied' : 'access.unauthenticated',
          resourceType: 'route',
          resourceId: `${c.req.method} ${c.req.path}`,
          details: { reason: error.message, ...error.context },
        }).catch((auditError: unknown) => deps.logger.error({ err: auditError }, 'audit event not stored'));
      }
      if (error.code === 'UNAUTHENTICATED') c.header('WWW-Authenticate', 'Bearer realm="nodus"');
      if (error.code === 'RATE_LIMITED') c.header('Retry-After', String(error.context.retryAfterSeconds));
      // Messages quote internals (a failed snapshot's reason, a blob key): researchers get them without.
      const principal = c.get('principal');
      const message =
        principal && !seesIdentity(principal) ? withoutInternalReferences(error.message) : error.message;
      return c.json(envelope(error.code, message, id), HTTP_STATUS_BY_CODE[error.code]);
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
