import { condition, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../src/temporal/activities/index.js';
import {
  SHARE_WORKFLOWS,
  type ShareLifecycleInput,
  type ShareLifecycleResult,
} from '../src/shared/share-workflows.js';

const { markShareSecondReadOverdue, expireShare } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

export const shareRevokedSignal = defineSignal(SHARE_WORKFLOWS.revokedSignal);

/**
 * A share's durable timers (workflow id `share:<id>`): when its second read falls due without one, the share is
 * marked overdue; when it expires, its viewer sessions end and the expiry is audited. Timers are Temporal's, so
 * they survive restarts of nodus and its workers. Access never waits for them: every request checks the
 * share's expiry itself. A revocation stops the timers.
 */
export async function shareLifecycleWorkflow(input: ShareLifecycleInput): Promise<ShareLifecycleResult> {
  let revoked = false;
  setHandler(shareRevokedSignal, () => {
    revoked = true;
  });
  // Date.now() in a workflow is the time of the current workflow task: deterministic on replay.
  const until = (iso: string) => Math.max(0, Date.parse(iso) - Date.now());
  let secondReadOverdue = false;
  if (input.secondReadDueAt !== undefined) {
    if (!(await condition(() => revoked, until(input.secondReadDueAt)))) {
      secondReadOverdue = await markShareSecondReadOverdue({ shareId: input.shareId });
    }
  }
  if (revoked || (await condition(() => revoked, until(input.expiresAt)))) {
    return { outcome: 'revoked', secondReadOverdue };
  }
  await expireShare({ shareId: input.shareId });
  return { outcome: 'expired', secondReadOverdue };
}
