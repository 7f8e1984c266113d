import { DomainError } from '../shared/errors.js';
import { ROLES_SEEING_IDENTITY, type UserRole } from '../shared/roles.js';
import type { Principal } from './principal.js';

/** Throws FORBIDDEN unless the principal has one of `roles`; `what` names the action in the message. */
export function requireRole(principal: Principal, roles: readonly UserRole[], what: string): void {
  if (!roles.includes(principal.role)) {
    throw new DomainError('FORBIDDEN', `${principal.role} may not ${what}`, {
      context: { reason: 'role', role: principal.role, allowed: roles },
    });
  }
}

/** Whether the principal sees the studies of this institution (admins see all). */
export function seesInstitution(principal: Principal, institutionId: string): boolean {
  return principal.role === 'admin' || principal.institutionIds.includes(institutionId);
}

/** Throws FORBIDDEN unless the principal sees the institution's studies. */
export function requireInstitution(principal: Principal, institutionId: string, what: string): void {
  if (!seesInstitution(principal, institutionId)) {
    throw new DomainError('FORBIDDEN', `not allowed to ${what} of another institution`, {
      context: { reason: 'institution' },
    });
  }
}

/** Whether the principal sees identifying data (names, patient ids, birth dates, accession numbers, UIDs). */
export function seesIdentity(principal: Principal): boolean {
  return ROLES_SEEING_IDENTITY.includes(principal.role);
}

/** Institutions the principal's queries are limited to; undefined for admins (no limit). */
export function visibleInstitutions(principal: Principal): string[] | undefined {
  return principal.role === 'admin' ? undefined : principal.institutionIds;
}

/** Whether the principal sees a study: its institution's, or shared with theirs for a second read. */
export function seesStudy(principal: Principal, study: { studyId: string; institutionId: string }): boolean {
  return (
    seesInstitution(principal, study.institutionId) ||
    (principal.sharedStudyIds ?? []).includes(study.studyId)
  );
}

/** Throws FORBIDDEN unless the principal sees the study (its institution's, or shared with theirs). */
export function requireStudy(
  principal: Principal,
  study: { studyId: string; institutionId: string },
  what: string,
): void {
  if (!seesStudy(principal, study)) requireInstitution(principal, study.institutionId, what);
}
