import { createMiddleware } from 'hono/factory';
import type { Principal } from '../../access/principal.js';
import { DomainError } from '../../shared/errors.js';

/** Paths anyone may call: liveness and readiness probes. */
const PUBLIC_PATHS = new Set(['/healthz', '/readyz']);

/**
 * Requires `Authorization: Bearer <token>` on every route but the probes and sets `principal`. An absent,
 * unknown, expired or revoked token, or a disabled user, is UNAUTHENTICATED (401).
 */
export function authenticate(resolvePrincipal: (token: string) => Promise<Principal | undefined>) {
  return createMiddleware<{ Variables: { principal: Principal } }>(async (c, next) => {
    if (PUBLIC_PATHS.has(c.req.path)) return next();
    const header = c.req.header('authorization');
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match?.[1]) {
      throw new DomainError('UNAUTHENTICATED', 'a bearer token is required (Authorization: Bearer <token>)');
    }
    const principal = await resolvePrincipal(match[1]);
    if (!principal) throw new DomainError('UNAUTHENTICATED', 'the token is unknown, expired or revoked');
    c.set('principal', principal);
    return next();
  });
}
