import { bigserial, index, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { users } from './users.js';

/** Append-only record of who did what to which resource (reads of patient data included). */
export const auditEvents = pgTable(
  'audit_events',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    occurredAt: timestamp({ withTimezone: true }).defaultNow().notNull(),
    /** Null for the platform itself (workflows, ingest). */
    actorUserId: uuid().references(() => users.id, { onDelete: 'set null' }),
    /** Verb in dotted form, e.g. series.processed. */
    action: text().notNull(),
    resourceType: text().notNull(),
    resourceId: text().notNull(),
    requestId: text(),
    /** Where the request came from: the client's IP address (or the proxy's X-Forwarded-For), for API calls. */
    sourceIp: text(),
    /** Makes a retried write idempotent: one event per key. */
    dedupeKey: text(),
    details: jsonb().$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [
    index('audit_events_resource_idx').on(t.resourceType, t.resourceId),
    index('audit_events_occurred_at_idx').on(t.occurredAt),
    index('audit_events_actor_idx').on(t.actorUserId, t.occurredAt),
    uniqueIndex('audit_events_dedupe_key').on(t.dedupeKey),
  ],
);
