import { Hono } from 'hono';
import type { AuthFailureLimiter } from '../../access/auth-failure-limiter.js';
import type { Database } from '../../db/client.js';
import { followLink, type LinkState } from '../../sharing/follow-link.js';
import { SHARE_LINK_PREFIX } from '../../sharing/share-link.js';
import type { AppEnv } from '../app.js';
import { clientAddress } from '../audit.js';
import { filmBundle } from './film-assets.js';

const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; script-src 'self'; " +
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'X-Content-Type-Options': 'nosniff',
  // The link is the capability: never sent on to another site.
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
  'X-Robots-Tag': 'noindex, nofollow',
};

const STATUS_BY_STATE: Record<'open' | 'expired' | 'revoked' | 'unknown', 200 | 404 | 410> = {
  open: 200,
  expired: 410,
  revoked: 410,
  unknown: 404,
};

/**
 * A share's link, `/s/<secret>`: the phone-first page of a patient's film (its script opens the film with the
 * secret, asking the PIN or birth date when the share has one), 410 for an expired or revoked link, 404 for an
 * unknown one. A partner institution's link leads to the workspace (its radiologists sign in there). Every
 * following of a known link is recorded; unknown secrets count as failed authentications of the address.
 */
export function filmPageRoutes(deps: { db: Database; authFailures: AuthFailureLimiter }) {
  const app = new Hono<AppEnv>();

  const page = (state: 'open' | 'expired' | 'revoked' | 'unknown', secondFactor = 'none') => {
    const config = JSON.stringify({ state, secondFactor }).replace(/</g, '\\u003c');
    return (
      `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
      `<meta name="viewport" content="width=device-width, initial-scale=1">` +
      `<meta name="referrer" content="no-referrer"><title>nodus film</title></head>` +
      `<body><main id="film"></main>` +
      `<script type="application/json" id="film-config">${config}</script>` +
      `<script type="module" src="/film/app.js"></script></body></html>`
    );
  };

  app.get(`${SHARE_LINK_PREFIX}:secret`, async (c) => {
    const address = clientAddress(c) ?? 'unknown';
    const retryAfter = deps.authFailures.refusal(address, c.req.path);
    if (retryAfter !== undefined) {
      return c.html(page('unknown'), 429, { ...SECURITY_HEADERS, 'Retry-After': String(retryAfter) });
    }
    const client = { address: clientAddress(c), userAgent: c.req.header('user-agent') };
    const { state, linked } = await followLink(deps.db, c.req.param('secret'), client, 'visited');
    if (state === 'unknown') deps.authFailures.failed(address, c.req.path);
    if (state === 'open' && linked?.share.audience === 'institution') {
      return c.redirect(`/#/studies/${linked.share.studyId}`, 302);
    }
    const shown = shownState(state);
    return c.html(page(shown, linked?.share.secondFactor), STATUS_BY_STATE[shown], SECURITY_HEADERS);
  });

  app.get('/film/app.js', async (c) =>
    c.body(await filmBundle(), 200, {
      ...SECURITY_HEADERS,
      'Content-Type': 'text/javascript; charset=utf-8',
      'Cache-Control': 'no-cache',
    }),
  );

  return app;
}

/** A link not yet valid is shown as unknown: it says nothing before its time. */
function shownState(state: LinkState): 'open' | 'expired' | 'revoked' | 'unknown' {
  return state === 'not-yet-valid' ? 'unknown' : state;
}
