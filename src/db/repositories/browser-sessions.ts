import { randomBytes } from 'node:crypto';
import { and, eq, gt, isNull, or, sql } from 'drizzle-orm';
import { tokenSha256 } from '../../access/api-token.js';
import type { Principal } from '../../access/principal.js';
import type { Database } from '../client.js';
import { apiTokens, browserSessions, users } from '../schema/index.js';
import { userSharedStudyIds } from './shares.js';
import { userInstitutionIds } from './users.js';

/** A browser session as its holder sees it: who, until when, and the CSRF token its writes must carry. */
export interface BrowserSession {
  id: string;
  csrfToken: string;
  expiresAt: Date;
}

/** How long a browser session lasts at most (it ends earlier with its token or on sign-out). */
export const SESSION_HOURS = 12;

/**
 * Opens a session for the holder of `tokenId`: returns the cookie's secret (256 random bits, shown once;
 * only its SHA-256 is stored) and the session.
 */
export async function openBrowserSession(
  db: Database,
  tokenId: string,
): Promise<{ secret: string; session: BrowserSession }> {
  const secret = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(24).toString('base64url');
  const expiresAt = new Date(Date.now() + SESSION_HOURS * 3_600_000);
  const [row] = await db
    .insert(browserSessions)
    .values({ tokenId, sessionSha256: tokenSha256(secret), csrfToken, expiresAt })
    .returning({ id: browserSessions.id });
  return { secret, session: { id: row!.id, csrfToken, expiresAt } };
}

/**
 * Who holds a session cookie: its user, when the session is open (not ended, not expired), its token valid
 * (not revoked, not expired) and the user enabled; undefined otherwise.
 */
export async function principalForSession(
  db: Database,
  secret: string,
): Promise<{ principal: Principal; session: BrowserSession } | undefined> {
  const [row] = await db
    .select({
      sessionId: browserSessions.id,
      csrfToken: browserSessions.csrfToken,
      expiresAt: browserSessions.expiresAt,
      tokenId: apiTokens.id,
      userId: users.id,
      email: users.email,
      role: users.role,
      institutionIds: userInstitutionIds,
      sharedStudyIds: userSharedStudyIds,
    })
    .from(browserSessions)
    .innerJoin(apiTokens, eq(apiTokens.id, browserSessions.tokenId))
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .where(
      and(
        eq(browserSessions.sessionSha256, tokenSha256(secret)),
        isNull(browserSessions.endedAt),
        gt(browserSessions.expiresAt, sql`now()`),
        isNull(apiTokens.revokedAt),
        or(isNull(apiTokens.expiresAt), gt(apiTokens.expiresAt, sql`now()`)),
        isNull(users.disabledAt),
      ),
    );
  if (!row) return undefined;
  const { sessionId, csrfToken, expiresAt, ...principal } = row;
  return { principal, session: { id: sessionId, csrfToken, expiresAt } };
}

/** Ends a session (sign-out). */
export async function endBrowserSession(db: Database, sessionId: string): Promise<void> {
  await db.update(browserSessions).set({ endedAt: new Date() }).where(eq(browserSessions.id, sessionId));
}
