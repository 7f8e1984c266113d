import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { setCookie } from 'hono/cookie';
import type { AuthFailureLimiter } from '../../access/auth-failure-limiter.js';
import type { Database } from '../../db/client.js';
import { instancesToRetrieve } from '../../db/repositories/dicomweb-query.js';
import {
  filmLinks,
  openShareSession,
  recordOpening,
  revokeShare,
  shareById,
  wrongSecondFactors,
} from '../../db/repositories/shares.js';
import { DomainError } from '../../shared/errors.js';
import { createShare } from '../../sharing/create-share.js';
import { startShareTimers } from '../../sharing/start-share-timers.js';
import { filmArchive } from '../../sharing/film-archive.js';
import { filmView } from '../../sharing/film-view.js';
import { followLink } from '../../sharing/follow-link.js';
import { pinMatches } from '../../sharing/second-factor-hash.js';
import { qrCodeDataUrl, shareUrl } from '../../sharing/share-link.js';
import type { ShareGrant } from '../../sharing/share-scope.js';
import type { BlobStore } from '../../storage/blob-store.js';
import type { ShareWorkflows } from '../../temporal/share-workflows.js';
import type { Logger } from '../../logging/logger.js';
import type { AppEnv } from '../app.js';
import { audit, clientAddress } from '../audit.js';
import { publicBaseUrl } from '../dicomweb/retrieve-urls.js';
import { FILM_COOKIE } from '../middleware/authenticate.js';
import { errorResponse } from '../schemas.js';
import { CreatedShareSchema, ShareScopeSchema, ShareSummarySchema } from './share-schemas.js';

/** Wrong PINs or birth dates a link takes in {@link LOCK_MINUTES} before it locks (against guessing). */
const MAX_WRONG_SECOND_FACTORS = 5;
const LOCK_MINUTES = 15;

const OpenBodySchema = z
  .object({
    secret: z.string().min(1).max(200),
    pin: z.string().max(12).optional(),
    birthDate: z.iso.date().optional().openapi({ description: "The patient's birth date, YYYY-MM-DD" }),
  })
  .openapi('FilmOpen');

const openFilm = createRoute({
  method: 'post',
  path: '/api/film/open',
  summary: "Exchanges a share's link (and its PIN or birth date) for a viewer session of that one study",
  request: { body: { content: { 'application/json': { schema: OpenBodySchema } }, required: true } },
  responses: {
    201: {
      content: {
        'application/json': {
          schema: z.object({
            csrfToken: z.string().openapi({ description: 'Send as X-CSRF-Token with every write' }),
            expiresAt: z.string(),
          }),
        },
      },
      description: 'Opened: an HttpOnly SameSite=Strict cookie holds the session (a few hours)',
    },
    400: errorResponse('Invalid body, or a link for an institution (its radiologists sign in)'),
    403: errorResponse('Wrong PIN or birth date'),
    404: errorResponse('Unknown link'),
    410: errorResponse('The link has expired or was revoked'),
    429: errorResponse('Too many failed attempts'),
  },
});

const filmSecurity = [{ film: [] }];
const filmErrors = {
  401: errorResponse('No film session, or its link was revoked or expired'),
  403: errorResponse('Not allowed by this link'),
};

const FilmSchema = z
  .object({
    film: z.object({
      shareId: z.string(),
      expiresAt: z.string(),
      linkExpiresAt: z.string(),
      allowDownload: z.boolean(),
      canPassOn: z.boolean(),
    }),
    patient: z.object({
      name: z.string().nullable(),
      birthDate: z.string().nullable(),
      sex: z.string().nullable(),
    }),
    study: z.object({
      studyInstanceUid: z.string(),
      date: z.string().nullable(),
      description: z.string().nullable(),
      institution: z.string(),
    }),
    report: z
      .object({
        signedOffAt: z.string(),
        category: z.string(),
        followUpMonths: z.number().nullable(),
        signedOffBy: z.string().nullable(),
        nodules: z.array(
          z.object({
            number: z.number(),
            type: z.string(),
            longAxisMm: z.number(),
            shortAxisMm: z.number(),
            meanDiameterMm: z.number(),
            keyImage: z.object({ seriesInstanceUid: z.string(), sopInstanceUid: z.string() }).nullable(),
          }),
        ),
        secondReads: z.array(
          z.object({ institution: z.string(), opinion: z.string(), category: z.string(), at: z.string() }),
        ),
      })
      .nullable()
      .openapi({ description: 'The signed-off report; null until a radiologist signs the study off' }),
    series: z.array(
      z.object({
        seriesInstanceUid: z.string(),
        description: z.string().nullable(),
        modality: z.string().nullable(),
        sopInstanceUids: z.array(z.string()),
      }),
    ),
  })
  .openapi('Film');

const getFilm = createRoute({
  method: 'get',
  path: '/api/film',
  summary:
    'The film this session opened: the patient, the study, the signed report in plain terms, the images',
  security: filmSecurity,
  responses: {
    200: { content: { 'application/json': { schema: FilmSchema } }, description: 'The film' },
    ...filmErrors,
  },
});

const listLinks = createRoute({
  method: 'get',
  path: '/api/film/links',
  summary: "The patient's film and every link passed on from it, each with its openings",
  security: filmSecurity,
  responses: {
    200: {
      content: { 'application/json': { schema: z.object({ links: z.array(ShareSummarySchema) }) } },
      description: 'The film first, then the links passed on, newest first',
    },
    ...filmErrors,
  },
});

const PassOnBodySchema = z
  .object({
    expiresInHours: z.number().positive().max(8760).optional(),
    allowDownload: z.boolean().optional(),
    pin: z.string().optional(),
    scope: ShareScopeSchema.optional(),
  })
  .openapi('FilmPassOn');

const passOn = createRoute({
  method: 'post',
  path: '/api/film/links',
  summary:
    'Passes the film on to a doctor: a narrower, shorter-lived link of its own (72 hours unless asked; X-CSRF-Token)',
  security: filmSecurity,
  request: { body: { content: { 'application/json': { schema: PassOnBodySchema } }, required: true } },
  responses: {
    201: { content: { 'application/json': { schema: CreatedShareSchema } }, description: 'The new link' },
    400: errorResponse('Wider or longer than the film, or invalid'),
    ...filmErrors,
  },
});

const revokeLink = createRoute({
  method: 'delete',
  path: '/api/film/links/{shareId}',
  summary: 'Revokes a link passed on from the film, or the film itself (X-CSRF-Token)',
  security: filmSecurity,
  request: { params: z.object({ shareId: z.guid().openapi({ param: { name: 'shareId', in: 'path' } }) }) },
  responses: {
    204: { description: 'Revoked (its sessions end at once)' },
    404: errorResponse('Not a link of this film'),
    ...filmErrors,
  },
});

const download = createRoute({
  method: 'get',
  path: '/api/film/download',
  summary: "The film's DICOM images as a ZIP archive, when the link allows downloads",
  security: filmSecurity,
  responses: {
    200: {
      content: { 'application/zip': { schema: z.string().openapi({ format: 'binary' }) } },
      description: 'One DICOM file per image, under series folders',
    },
    ...filmErrors,
  },
});

export interface FilmRouteDeps {
  db: Database;
  blobs: BlobStore;
  publicUrl?: string | undefined;
  authFailures: AuthFailureLimiter;
  shareWorkflows?: ShareWorkflows | undefined;
  logger?: Logger | undefined;
}

/** The grant of the film session; 401 without one (the routes are the film's own). */
function grantOf(c: Context<AppEnv>): ShareGrant {
  const grant = c.get('grant');
  if (!grant) throw new DomainError('UNAUTHENTICATED', 'open the film from its link first');
  return grant;
}

/** A patient's digital film: opening a link, the film itself, passing it on, its links and the download. */
export function filmRoutes(deps: FilmRouteDeps) {
  const app = new OpenAPIHono<AppEnv>();
  app.openAPIRegistry.registerComponent('securitySchemes', 'film', {
    type: 'apiKey',
    in: 'cookie',
    name: FILM_COOKIE,
  });

  app.openapi(openFilm, async (c) => {
    const body = c.req.valid('json');
    const address = clientAddress(c) ?? 'unknown';
    const retryAfter = deps.authFailures.refusal(address, c.req.path);
    if (retryAfter !== undefined) {
      throw new DomainError(
        'RATE_LIMITED',
        `too many failed attempts from this address: retry in ${retryAfter} s`,
        {
          context: { retryAfterSeconds: retryAfter },
        },
      );
    }
    const client = { address: clientAddress(c), userAgent: c.req.header('user-agent') };
    const { state, linked } = await followLink(deps.db, body.secret, client, null);
    if (state === 'unknown' || state === 'not-yet-valid' || !linked) {
      deps.authFailures.failed(address, c.req.path);
      throw new DomainError('NOT_FOUND', 'no such link');
    }
    if (state !== 'open')
      throw new DomainError('GONE', `this link has been ${state === 'revoked' ? 'revoked' : 'expired'}`);
    const { share } = linked;
    if (share.audience !== 'patient') {
      throw new DomainError(
        'VALIDATION_FAILED',
        "an institution's link opens in the workspace: sign in there",
      );
    }
    const since = new Date(Date.now() - LOCK_MINUTES * 60_000);
    if (
      share.secondFactor !== 'none' &&
      (await wrongSecondFactors(deps.db, share.id, since)) >= MAX_WRONG_SECOND_FACTORS
    ) {
      throw new DomainError(
        'RATE_LIMITED',
        `too many wrong answers: this link opens again in ${LOCK_MINUTES} minutes`,
        {
          context: { retryAfterSeconds: LOCK_MINUTES * 60 },
        },
      );
    }
    const passed =
      share.secondFactor === 'none' ||
      (share.secondFactor === 'pin' &&
        body.pin !== undefined &&
        share.pinHash !== null &&
        (await pinMatches(body.pin, share.pinHash))) ||
      (share.secondFactor === 'birth-date' &&
        body.birthDate !== undefined &&
        body.birthDate === linked.patientBirthDate);
    if (!passed) {
      await recordOpening(deps.db, share.id, 'wrong-second-factor', client);
      deps.authFailures.failed(address, c.req.path);
      throw new DomainError(
        'FORBIDDEN',
        `the ${share.secondFactor === 'pin' ? 'PIN' : 'birth date'} is not right`,
        {
          context: { reason: 'second-factor', shareId: share.id },
        },
      );
    }
    const session = await openShareSession(deps.db, share);
    await recordOpening(deps.db, share.id, 'opened', client);
    setCookie(c, FILM_COOKIE, session.secret, {
      httpOnly: true,
      sameSite: 'Strict',
      secure: new URL(c.req.url).protocol === 'https:',
      path: '/',
      expires: session.expiresAt,
    });
    await audit(c, deps.db, {
      action: 'share.opened',
      resourceType: 'study',
      resourceId: share.studyId,
      details: { shareId: share.id, userAgent: client.userAgent?.slice(0, 200) ?? null },
    });
    return c.json({ csrfToken: session.csrfToken, expiresAt: session.expiresAt.toISOString() }, 201);
  });

  app.openapi(getFilm, async (c) => {
    const grant = grantOf(c);
    const view = await filmView(deps.db, grant);
    await audit(c, deps.db, { action: 'film.read', resourceType: 'study', resourceId: grant.studyId });
    return c.json(view, 200);
  });

  app.openapi(listLinks, async (c) => {
    const grant = grantOf(c);
    if (!grant.canPassOn) throw new DomainError('FORBIDDEN', 'a link passed on does not manage the film');
    return c.json({ links: await filmLinks(deps.db, grant.rootShareId) }, 200);
  });

  app.openapi(passOn, async (c) => {
    const grant = grantOf(c);
    if (!grant.canPassOn) throw new DomainError('FORBIDDEN', 'a link passed on cannot be passed on again');
    const parent = await shareById(deps.db, grant.shareId);
    const body = c.req.valid('json');
    const { share, secret } = await createShare(deps.db, {
      studyId: grant.studyId,
      request: { audience: 'patient', ...body },
      parent,
    });
    await startShareTimers(deps.db, deps.shareWorkflows, share);
    await audit(c, deps.db, {
      action: 'share.created',
      resourceType: 'study',
      resourceId: grant.studyId,
      details: { shareId: share.id, parentShareId: grant.shareId, audience: 'patient' },
    });
    const url = shareUrl(publicBaseUrl(c.req.url, deps.publicUrl), secret);
    return c.json(
      { id: share.id, url, qrCode: await qrCodeDataUrl(url), expiresAt: share.expiresAt.toISOString() },
      201,
    );
  });

  app.openapi(revokeLink, async (c) => {
    const grant = grantOf(c);
    if (!grant.canPassOn) throw new DomainError('FORBIDDEN', 'a link passed on does not manage the film');
    const { shareId } = c.req.valid('param');
    const target = await shareById(deps.db, shareId);
    if (!target || (target.id !== grant.rootShareId && target.parentShareId !== grant.rootShareId)) {
      throw new DomainError('NOT_FOUND', `no link ${shareId} of this film`);
    }
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
      resourceId: grant.studyId,
      details: { shareId, by: 'patient' },
    });
    return c.body(null, 204);
  });

  app.openapi(download, async (c) => {
    const grant = grantOf(c);
    if (!grant.allowDownload) throw new DomainError('FORBIDDEN', 'this link does not allow downloads');
    const rows = await instancesToRetrieve(
      deps.db,
      { studyInstanceUid: grant.studyInstanceUid },
      {
        institutionIds: undefined,
        grant: {
          studyId: grant.studyId,
          seriesInstanceUids: grant.scope?.seriesInstanceUids,
          sopInstanceUids: grant.scope?.sopInstanceUids,
        },
      },
    );
    const seriesFolders = new Map<string, string>();
    const entries = rows.map((row, index) => {
      let folder = seriesFolders.get(row.series_instance_uid);
      if (!folder) {
        folder = `series-${String(seriesFolders.size + 1).padStart(3, '0')}`;
        seriesFolders.set(row.series_instance_uid, folder);
      }
      return { path: `film/${folder}/${String(index + 1).padStart(5, '0')}.dcm`, blobKey: row.blob_key };
    });
    await audit(c, deps.db, {
      action: 'film.downloaded',
      resourceType: 'study',
      resourceId: grant.studyId,
      details: { instances: rows.length },
    });
    return new Response(filmArchive(deps.blobs, entries), {
      headers: {
        'Content-Type': 'application/zip',
        'Content-Disposition': `attachment; filename="film-${grant.studyId.slice(0, 8)}.zip"`,
        'Cache-Control': 'private, no-store',
      },
    });
  });

  return app;
}
