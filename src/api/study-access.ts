import { requireInstitution, requireStudy } from '../access/policy.js';
import type { Principal } from '../access/principal.js';
import type { Database } from '../db/client.js';
import { studyAccess } from '../db/repositories/study-detail.js';
import { DomainError } from '../shared/errors.js';

/**
 * 404 for an unknown study, 403 (audited by the error handler) for another institution's. A study shared with
 * the caller's institution for a second read passes only when `shared` is 'allowed' (reading it, not acting
 * on the first read). Returns the study's owning institution.
 */
export async function authorizeStudy(
  db: Database,
  principal: Principal,
  studyId: string,
  what: string,
  shared: 'allowed' | 'refused' = 'refused',
): Promise<{ institutionId: string }> {
  const access = await studyAccess(db, studyId);
  if (!access) throw new DomainError('NOT_FOUND', `study ${studyId} is unknown`);
  if (shared === 'allowed') requireStudy(principal, { studyId, institutionId: access.institutionId }, what);
  else requireInstitution(principal, access.institutionId, what);
  return access;
}
