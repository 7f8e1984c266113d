import type { Database } from '../db/client.js';
import { consortiumOfferOf, hubOf } from '../db/repositories/consortium.js';
import { studyAccess } from '../db/repositories/study-detail.js';
import type { ShareRow } from '../db/schema/index.js';
import { createShare } from './create-share.js';

/**
 * Offers a consortium member's study to its hub for a second read: one institution share per study, on the
 * member's terms (second read due, share lasting). Idempotent: undefined when the study's institution is no
 * member, or the study was offered already.
 */
export async function offerToConsortium(db: Database, studyId: string): Promise<ShareRow | undefined> {
  const owner = await studyAccess(db, studyId);
  if (!owner) return undefined;
  const hub = await hubOf(db, owner.institutionId);
  if (!hub || (await consortiumOfferOf(db, studyId))) return undefined;
  const { share } = await createShare(db, {
    studyId,
    request: {
      audience: 'institution',
      institution: hub.hubCode,
      expiresInHours: hub.shareHours,
      secondReadDueInHours: hub.secondReadHours,
    },
    offeredByConsortium: true,
  });
  return share;
}
