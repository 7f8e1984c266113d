import { requireInstitution } from '../access/policy.js';
import type { Principal } from '../access/principal.js';
import type { Database } from '../db/client.js';
import { studyAccess } from '../db/repositories/study-detail.js';
import { DomainError } from '../shared/errors.js';

/** 404 for an unknown study, 403 (audited by the error handler) for another institution's. */
export async function authorizeStudy(db: Database, principal: Principal, studyId: string, what: string) {
  const access = await studyAccess(db, studyId);
  if (!access) throw new DomainError('NOT_FOUND', `study ${studyId} is unknown`);
  requireInstitution(principal, access.institutionId, what);
}
