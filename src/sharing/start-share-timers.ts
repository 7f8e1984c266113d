import type { Database } from '../db/client.js';
import { revokeShare } from '../db/repositories/shares.js';
import type { ShareRow } from '../db/schema/index.js';
import type { ShareWorkflows } from '../temporal/share-workflows.js';

/**
 * Starts a new share's durable timers. When Temporal cannot take them, the share is withdrawn (revoked before
 * its link was ever shown) and the error goes on: no share lives without its timers.
 */
export async function startShareTimers(
  db: Database,
  workflows: ShareWorkflows | undefined,
  share: ShareRow,
): Promise<void> {
  if (!workflows) return;
  try {
    await workflows.start(share);
  } catch (error) {
    await revokeShare(db, share.id);
    throw error;
  }
}
