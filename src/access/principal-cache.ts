import type { Principal } from './principal.js';

/**
 * Remembers who holds a token for `ttlMs`, so a busy client costs one token lookup per interval instead of one
 * per request. A revoked token, or a user's new institutions, take effect within `ttlMs`. Unknown tokens are
 * not remembered (each attempt is looked up again; the auth-failure limiter bounds how often).
 */
export function cachedPrincipals(
  resolve: (token: string) => Promise<Principal | undefined>,
  options: { ttlMs?: number; maxEntries?: number; now?: () => number } = {},
): (token: string) => Promise<Principal | undefined> {
  const ttlMs = options.ttlMs ?? 5_000;
  const maxEntries = options.maxEntries ?? 10_000;
  const now = options.now ?? Date.now;
  const entries = new Map<string, { principal: Principal; expiresAt: number }>();
  return async (token) => {
    const cached = entries.get(token);
    if (cached && cached.expiresAt > now()) return cached.principal;
    entries.delete(token);
    const principal = await resolve(token);
    if (principal) {
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
      entries.set(token, { principal, expiresAt: now() + ttlMs });
    }
    return principal;
  };
}
