import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import type { AuthFailureSummary } from '../access/auth-failure-limiter.js';
import type { Database } from '../db/client.js';
import { recordAuditEvent } from '../db/repositories/audit-events.js';
import type { AppEnv } from './app.js';

/** The client's address: the socket's remote address under @hono/node-server, else undefined. */
export function clientAddress(c: Context): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined;
  }
}

/**
 * Records who (the caller's user), what (`action` on `resourceType`/`resourceId`), when (now) and from where
 * (client address, X-Forwarded-For when a proxy sent it) for a read of patient data or a review action.
 */
export async function audit(
  c: Context<AppEnv>,
  db: Database,
  event: { action: string; resourceType: string; resourceId: string; details?: Record<string, unknown> },
): Promise<void> {
  const forwardedFor = c.req.header('x-forwarded-for');
  await recordAuditEvent(db, {
    ...event,
    actorUserId: c.get('principal')?.userId ?? null,
    requestId: c.get('requestId'),
    sourceIp: clientAddress(c) ?? null,
    details: {
      method: c.req.method,
      path: c.req.path,
      ...(forwardedFor && { forwardedFor }),
      // A share's viewer session has no user: the share stands for whoever holds its link.
      ...(c.get('grant') && { shareId: c.get('grant')!.shareId }),
      ...event.details,
    },
  });
}

/**
 * One `access.unauthenticated` event for an address's repeated failed authentications in one window (its first
 * failure was audited by itself): how many failed, how many were refused unread (429), when, and where.
 */
export async function auditAuthFailures(db: Database, summary: AuthFailureSummary): Promise<void> {
  const { address, ...counts } = summary;
  await recordAuditEvent(db, {
    action: 'access.unauthenticated',
    resourceType: 'route',
    resourceId: '*',
    sourceIp: address === 'unknown' ? null : address,
    dedupeKey: `auth-failures:${address}:${summary.firstAt}`,
    details: {
      aggregated: true,
      ...counts,
      firstAt: new Date(summary.firstAt).toISOString(),
      lastAt: new Date(summary.lastAt).toISOString(),
    },
  });
}
