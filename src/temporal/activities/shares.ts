import type { Database } from '../../db/client.js';
import { recordAuditEvent } from '../../db/repositories/audit-events.js';
import { studyOfSeries } from '../../db/repositories/study-reviews.js';
import { endExpiredShareSessions, markSecondReadOverdue } from '../../db/repositories/shares.js';
import type { ShareLifecycleInput } from '../../shared/share-workflows.js';
import { offerToConsortium } from '../../sharing/offer-to-consortium.js';

/** Activities of shares: the consortium's offer of a study, and what a share's timers do. Idempotent. */
export function createShareActivities({ db }: { db: Database }) {
  return {
    /**
     * Offers the series' study to its institution's consortium hub for a second read; the new share's timers
     * to start, or null when the institution is no member or the study was offered already.
     */
    async offerStudyToConsortium(input: { seriesInstanceUid: string }): Promise<ShareLifecycleInput | null> {
      const { studyId } = await studyOfSeries(db, input.seriesInstanceUid);
      const share = await offerToConsortium(db, studyId);
      if (!share) return null;
      await recordAuditEvent(db, {
        action: 'share.created',
        resourceType: 'study',
        resourceId: studyId,
        actorUserId: null,
        dedupeKey: `share.created:${share.id}`,
        details: { shareId: share.id, audience: 'institution', offeredByConsortium: true },
      });
      return {
        shareId: share.id,
        expiresAt: share.expiresAt.toISOString(),
        secondReadDueAt: share.secondReadDueAt?.toISOString(),
      };
    },

    /** The share's second read fell due: marks it overdue unless one came in. Returns whether it did. */
    async markShareSecondReadOverdue(input: { shareId: string }): Promise<boolean> {
      const overdue = await markSecondReadOverdue(db, input.shareId);
      if (overdue) {
        await recordAuditEvent(db, {
          action: 'share.second-read-overdue',
          resourceType: 'share',
          resourceId: input.shareId,
          actorUserId: null,
          dedupeKey: `share.second-read-overdue:${input.shareId}`,
        });
      }
      return overdue;
    },

    /** The share expired: its open viewer sessions end, and the expiry is audited. */
    async expireShare(input: { shareId: string }): Promise<{ sessionsEnded: number }> {
      const sessionsEnded = await endExpiredShareSessions(db, input.shareId);
      await recordAuditEvent(db, {
        action: 'share.expired',
        resourceType: 'share',
        resourceId: input.shareId,
        actorUserId: null,
        dedupeKey: `share.expired:${input.shareId}`,
        details: { sessionsEnded },
      });
      return { sessionsEnded };
    },
  };
}
