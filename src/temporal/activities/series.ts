import { Context } from '@temporalio/activity';
import type { Database } from '../../db/client.js';
import { recordAuditEvent } from '../../db/repositories/audit-events.js';
import { seriesReception, setSeriesStatus } from '../../db/repositories/series.js';
import { stillReceiving } from '../../ingest/series-completeness.js';
import { ensureStudyReview } from '../../db/repositories/study-reviews.js';
import { DomainError } from '../../shared/errors.js';

export interface SeriesActivityDeps {
  db: Database;
}

/** Activities that move a series through its statuses. All are idempotent. */
export function createSeriesActivities({ db }: SeriesActivityDeps) {
  return {
    /**
     * Marks the series as being processed and returns what the workflow needs to go on; while a transfer of
     * it is still open (a slow sender), `receiving` is true and nothing changes: the workflow waits again.
     */
    async beginSeriesProcessing(input: {
      seriesInstanceUid: string;
    }): Promise<{ instanceCount: number; receiving: boolean }> {
      const found = await seriesReception(db, input.seriesInstanceUid);
      if (!found) {
        throw new DomainError(
          'SERIES_NOT_FOUND',
          `series ${input.seriesInstanceUid} has no stored instances`,
          {
            context: { seriesInstanceUid: input.seriesInstanceUid },
          },
        );
      }
      if (stillReceiving(found)) return { instanceCount: found.instanceCount, receiving: true };
      await setSeriesStatus(db, input.seriesInstanceUid, { status: 'reconstructing', error: null });
      await ensureStudyReview(db, input.seriesInstanceUid);
      return { instanceCount: found.instanceCount, receiving: false };
    },

    /**
     * Gives the series the status processing ended in (`done`, `rejected` by the quality gate, or
     * `incomplete` while the rest is awaited) and records one `series.processed` audit event per workflow
     * run and status.
     */
    async completeSeriesProcessing(input: {
      seriesInstanceUid: string;
      instanceCount: number;
      status?: 'done' | 'rejected' | 'incomplete';
    }): Promise<void> {
      const { workflowExecution } = Context.current().info;
      const run = workflowExecution ?? { workflowId: 'unknown', runId: 'unknown' };
      const status = input.status ?? 'done';
      await setSeriesStatus(db, input.seriesInstanceUid, { status, error: null });
      await recordAuditEvent(db, {
        action: 'series.processed',
        resourceType: 'series',
        resourceId: input.seriesInstanceUid,
        dedupeKey: `series.processed:${run.workflowId}:${run.runId}:${status}:${input.instanceCount}`,
        details: { instanceCount: input.instanceCount, runId: run.runId, status },
      });
    },

    /** Records why processing stopped; a series that no longer exists is left alone. */
    async failSeriesProcessing(input: {
      seriesInstanceUid: string;
      error: { code: string; message: string };
    }): Promise<void> {
      await setSeriesStatus(db, input.seriesInstanceUid, { status: 'failed', error: input.error });
    },
  };
}

export type SeriesActivities = ReturnType<typeof createSeriesActivities>;
