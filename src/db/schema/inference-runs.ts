import { jsonb, pgEnum, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { id, timestamps } from './columns.js';
import { models } from './models.js';
import { volumes } from './volumes.js';

export const inferenceRunStatus = pgEnum('inference_run_status', ['running', 'succeeded', 'failed']);

/** One run of one model on one volume; re-running the same model with the same parameters reuses it. */
export const inferenceRuns = pgTable(
  'inference_runs',
  {
    id: id(),
    volumeId: uuid()
      .notNull()
      .references(() => volumes.id, { onDelete: 'cascade' }),
    modelId: uuid()
      .notNull()
      .references(() => models.id, { onDelete: 'restrict' }),
    /** SHA-256 of the canonical JSON of `parameters`, hex: part of the natural key. */
    parametersSha256: text().notNull(),
    parameters: jsonb().$type<Record<string, unknown>>().notNull(),
    status: inferenceRunStatus().notNull().default('running'),
    /** Stage timings in milliseconds. */
    timings: jsonb().$type<Record<string, number>>(),
    startedAt: timestamp({ withTimezone: true }).defaultNow().notNull(),
    finishedAt: timestamp({ withTimezone: true }),
    ...timestamps,
  },
  (t) => [uniqueIndex('inference_runs_natural_key').on(t.volumeId, t.modelId, t.parametersSha256)],
);
