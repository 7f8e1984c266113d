import type { Database } from '../db/client.js';
import { recordOpening, shareForSecret, shareStatus, type LinkedShare } from '../db/repositories/shares.js';

/** Where a link stands: usable, or why not (an unknown secret tells nothing more). */
export type LinkState = 'open' | 'expired' | 'revoked' | 'not-yet-valid' | 'unknown';

/**
 * Looks a link's secret up and records the following of a known one (when, from where, how it went); an
 * unknown secret is recorded nowhere but in the caller's failed-authentication count.
 */
export async function followLink(
  db: Database,
  secret: string,
  client: { address?: string | undefined; userAgent?: string | undefined },
  outcomeWhenOpen: 'visited' | null,
): Promise<{ state: LinkState; linked?: LinkedShare }> {
  // A secret is 43 base64url characters; anything else is unknown without a lookup.
  if (!/^[A-Za-z0-9_-]{43}$/.test(secret)) return { state: 'unknown' };
  const linked = await shareForSecret(db, secret);
  if (!linked) return { state: 'unknown' };
  const status = shareStatus(linked.share);
  const state: LinkState = status === 'active' ? 'open' : status;
  if (state !== 'open') await recordOpening(db, linked.share.id, state, client);
  else if (outcomeWhenOpen) await recordOpening(db, linked.share.id, outcomeWhenOpen, client);
  return { state, linked };
}
