import { createMiddleware } from 'hono/factory';
import type { AuthFailureLimiter } from '../../access/auth-failure-limiter.js';
import type { Principal } from '../../access/principal.js';
import { DomainError } from '../../shared/errors.js';
import { clientAddress } from '../audit.js';

/** Paths anyone may call: liveness and readiness probes. */
const PUBLIC_PATHS = new Set(['/healthz', '/readyz']);

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
) {
  return createMiddleware<{ Variables: { principal: Principal } }>(async (c, next) => {
    if (PUBLIC_PATHS.has(c.req.path)) return next();
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
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match?.[1]) throw refuse('a bearer token is required (Authorization: Bearer <token>)');
    const principal = await resolvePrincipal(match[1]);
    if (!principal) throw refuse('the token is unknown, expired or revoked');
    c.set('principal', principal);
    return next();
  });
}
