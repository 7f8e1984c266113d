import type { Database } from '../client.js';
import { auditEvents } from '../schema/index.js';

export interface AuditEventInput {
  action: string;
  resourceType: string;
  resourceId: string;
  actorUserId?: string | null;
  requestId?: string | null;
  /** Client address of the API request. */
  sourceIp?: string | null;
  /** When set, a retried write of the same event is ignored. */
  dedupeKey?: string | null;
  details?: Record<string, unknown>;
}

/** Appends an audit event; returns false when an event with the same dedupe key already exists. */
export async function recordAuditEvent(db: Database, event: AuditEventInput): Promise<boolean> {
  const inserted = await db
    .insert(auditEvents)
    .values({ ...event, details: event.details ?? {} })
    .onConflictDoNothing({ target: auditEvents.dedupeKey })
    .returning({ id: auditEvents.id });
  return inserted.length > 0;
}
