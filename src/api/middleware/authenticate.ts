import { getCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import type { AuthFailureLimiter } from '../../access/auth-failure-limiter.js';
import type { Principal } from '../../access/principal.js';
import { SHARE_LINK_PREFIX } from '../../sharing/share-link.js';
import type { ShareGrant } from '../../sharing/share-scope.js';
import { DomainError } from '../../shared/errors.js';
import { clientAddress } from '../audit.js';

/**
 * Paths anyone may call: liveness and readiness probes, the workspace page and its assets, a share's link page
 * (`/s/<secret>`, it checks the secret itself), the film page's assets and the exchange of a link for a film
 * session.
 */
const PUBLIC_PATHS = new Set(['/healthz', '/readyz', '/', '/api/film/open']);
const PUBLIC_PREFIXES = ['/workspace/', SHARE_LINK_PREFIX, '/film/'];

/** The cookie of a share's viewer session (a patient's digital film): src/db/repositories/shares.ts. */
export const FILM_COOKIE = 'nodus_film';
/** What a film cookie grants, and the CSRF token its writes must echo. */
export interface GrantLookup {
  grant: ShareGrant;
  csrfToken: string;
}

/** The cookie of a signed-in browser (src/db/repositories/browser-sessions.ts). */
export const SESSION_COOKIE = 'nodus_session';
/** Methods that change something: from a browser session they need the session's CSRF token. */
const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** A browser session's principal and what the page must echo on writes. */
export interface SessionLookup {
  principal: Principal;
  session: { id: string; csrfToken: string; expiresAt: Date };
}

/**
 * Requires `Authorization: Bearer <token>` on every route but the probes and sets `principal`. An absent,
 * unknown, expired or revoked token, or a disabled user, is UNAUTHENTICATED (401). With a limiter, a client
 * address past its failed authentications is RATE_LIMITED (429) before its token is even hashed, and only the
 * first failure of its window is audited by itself (the error's context says `aggregated` for the others:
 * the limiter's summary reports them).
 */
export function authenticate(
  resolvePrincipal: (token: string) => Promise<Principal | undefined>,
  limiter?: AuthFailureLimiter,
  resolveSession?: (secret: string) => Promise<SessionLookup | undefined>,
  resolveGrant?: (secret: string) => Promise<GrantLookup | undefined>,
) {
  return createMiddleware<{
    Variables: {
      principal: Principal;
      session?: SessionLookup['session'];
      grant?: ShareGrant;
      grantCsrfToken?: string;
    };
  }>(async (c, next) => {
    if (PUBLIC_PATHS.has(c.req.path) || PUBLIC_PREFIXES.some((p) => c.req.path.startsWith(p))) return next();
    // The socket's address: X-Forwarded-For is the caller's to choose, so it cannot key a limit.
    const address = clientAddress(c) ?? 'unknown';
    const retryAfterSeconds = limiter?.refusal(address, c.req.path);
    if (retryAfterSeconds !== undefined) {
      throw new DomainError(
        'RATE_LIMITED',
        `too many failed authentications from this address: retry in ${retryAfterSeconds} s`,
        { retryable: true, context: { retryAfterSeconds } },
      );
    }
    const refuse = (message: string) => {
      const aggregated = limiter?.failed(address, c.req.path) === 'repeated';
      return new DomainError('UNAUTHENTICATED', message, aggregated ? { context: { aggregated } } : {});
    };
    const header = c.req.header('authorization');
    // A patient's film (or a link passed on): its cookie, on the film's API and on DICOMweb, where a signed-in
    // workspace's own cookie (the same browser) comes first.
    const film = header === undefined && resolveGrant ? getCookie(c, FILM_COOKIE) : undefined;
    const filmFirst = c.req.path.startsWith('/api/film/') || c.req.path === '/api/film';
    if (film !== undefined && (filmFirst || getCookie(c, SESSION_COOKIE) === undefined)) {
      const found = await resolveGrant!(film);
      if (!found) throw refuse('this link has been revoked or has expired, or its session has ended');
      if (UNSAFE_METHODS.has(c.req.method) && c.req.header('x-csrf-token') !== found.csrfToken) {
        throw new DomainError('FORBIDDEN', 'a write from a film session needs its X-CSRF-Token header', {
          context: { reason: 'csrf' },
        });
      }
      c.set('grant', found.grant);
      c.set('grantCsrfToken', found.csrfToken);
      return next();
    }
    // A browser without Authorization: its session cookie, if any. Writes must echo the CSRF token.
    const cookie = header === undefined && resolveSession ? getCookie(c, SESSION_COOKIE) : undefined;
    if (cookie !== undefined) {
      const found = await resolveSession!(cookie);
      if (!found)
        throw refuse('the session has ended (signed out, expired or its token revoked): sign in again');
      if (UNSAFE_METHODS.has(c.req.method) && c.req.header('x-csrf-token') !== found.session.csrfToken) {
        throw new DomainError('FORBIDDEN', 'a write from a browser session needs its X-CSRF-Token header', {
          context: { reason: 'csrf' },
        });
      }
      c.set('principal', found.principal);
      c.set('session', found.session);
      return next();
    }
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match?.[1]) throw refuse('a bearer token is required (Authorization: Bearer <token>)');
    const principal = await resolvePrincipal(match[1]);
    if (!principal) throw refuse('the token is unknown, expired or revoked');
    c.set('principal', principal);
    return next();
  });
}
