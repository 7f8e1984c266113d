import { Context } from '@temporalio/activity';
import type { Database } from '../../db/client.js';
import { recordAuditEvent } from '../../db/repositories/audit-events.js';
import { findSeries, setSeriesStatus } from '../../db/repositories/series.js';
import { ensureStudyReview } from '../../db/repositories/study-reviews.js';
import { DomainError } from '../../shared/errors.js';

export interface SeriesActivityDeps {
  db: Database;
}

/** Activities that move a series through its statuses. All are idempotent. */
export function createSeriesActivities({ db }: SeriesActivityDeps) {
  return {
    /** Marks the series as being processed and returns what the workflow needs to go on. */
    async beginSeriesProcessing(input: { seriesInstanceUid: string }): Promise<{ instanceCount: number }> {
      const found = await findSeries(db, input.seriesInstanceUid);
      if (!found) {
        throw new DomainError(
          'SERIES_NOT_FOUND',
          `series ${input.seriesInstanceUid} has no stored instances`,
          {
            context: { seriesInstanceUid: input.seriesInstanceUid },
          },
        );
      }
      await setSeriesStatus(db, input.seriesInstanceUid, { status: 'reconstructing', error: null });
      await ensureStudyReview(db, input.seriesInstanceUid);
      return { instanceCount: found.instanceCount };
    },

    /** Marks the series done and records one `series.processed` audit event per workflow run. */
    async completeSeriesProcessing(input: {
      seriesInstanceUid: string;
      instanceCount: number;
    }): Promise<void> {
      const { workflowExecution } = Context.current().info;
      const run = workflowExecution ?? { workflowId: 'unknown', runId: 'unknown' };
      await setSeriesStatus(db, input.seriesInstanceUid, { status: 'done', error: null });
      await recordAuditEvent(db, {
        action: 'series.processed',
        resourceType: 'series',
        resourceId: input.seriesInstanceUid,
        dedupeKey: `series.processed:${run.workflowId}:${run.runId}`,
        details: { instanceCount: input.instanceCount, runId: run.runId },
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
