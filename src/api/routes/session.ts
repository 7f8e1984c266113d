import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import type { Database } from '../../db/client.js';
import { endBrowserSession, openBrowserSession } from '../../db/repositories/browser-sessions.js';
import { principalOf, type AppEnv } from '../app.js';
import { audit } from '../audit.js';
import { SESSION_COOKIE } from '../middleware/authenticate.js';
import { errorResponse } from '../schemas.js';

const SessionSchema = z
  .object({
    user: z.object({ email: z.string(), role: z.string() }),
    csrfToken: z.string().nullable().openapi({ description: 'Send as X-CSRF-Token with every write' }),
    expiresAt: z.string().nullable(),
  })
  .openapi('BrowserSession');

const openSession = createRoute({
  method: 'post',
  path: '/api/session',
  summary:
    'Signs a browser in: Authorization: Bearer <token> in, an HttpOnly SameSite=Strict session cookie out',
  security: [{ bearer: [] }],
  responses: {
    201: { content: { 'application/json': { schema: SessionSchema } }, description: 'Signed in' },
    401: errorResponse('No valid bearer token'),
  },
});
const readSession = createRoute({
  method: 'get',
  path: '/api/session',
  summary: 'Who is signed in (cookie or bearer token), and the CSRF token of the session',
  responses: {
    200: { content: { 'application/json': { schema: SessionSchema } }, description: 'The caller' },
    401: errorResponse('Not signed in'),
  },
});
const closeSession = createRoute({
  method: 'delete',
  path: '/api/session',
  summary: 'Signs the browser out (the session ends at once; X-CSRF-Token required)',
  responses: { 204: { description: 'Signed out' }, 401: errorResponse('Not signed in') },
});

/** Whether the cookie may be marked Secure: HTTPS, or a loopback host (browsers treat it as secure). */
function secureCookie(c: Context): boolean {
  const url = new URL(c.req.url);
  return url.protocol === 'https:' || ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
}

/** Browser sign-in and sign-out: a bearer token exchanged for a session cookie (CSRF-protected writes). */
export function sessionRoutes(deps: { db: Database }) {
  const app = new OpenAPIHono<AppEnv>();

  app.openapi(openSession, async (c) => {
    const principal = principalOf(c);
    const { secret, session } = await openBrowserSession(deps.db, principal.tokenId);
    setCookie(c, SESSION_COOKIE, secret, {
      httpOnly: true,
      sameSite: 'Strict',
      secure: secureCookie(c),
      path: '/',
      expires: session.expiresAt,
    });
    await audit(c, deps.db, { action: 'session.opened', resourceType: 'session', resourceId: session.id });
    return c.json(
      {
        user: { email: principal.email, role: principal.role },
        csrfToken: session.csrfToken,
        expiresAt: session.expiresAt.toISOString(),
      },
      201,
    );
  });

  app.openapi(readSession, (c) => {
    const principal = principalOf(c);
    const session = c.get('session');
    return c.json(
      {
        user: { email: principal.email, role: principal.role },
        csrfToken: session?.csrfToken ?? null,
        expiresAt: session?.expiresAt.toISOString() ?? null,
      },
      200,
    );
  });

  app.openapi(closeSession, async (c) => {
    const session = c.get('session');
    if (session) {
      await endBrowserSession(deps.db, session.id);
      await audit(c, deps.db, { action: 'session.ended', resourceType: 'session', resourceId: session.id });
    }
    deleteCookie(c, SESSION_COOKIE, { path: '/', secure: secureCookie(c) });
    return c.body(null, 204);
  });

  return app;
}
