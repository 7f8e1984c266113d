import type { UserRole } from '../shared/roles.js';

/** Who is calling: the user behind a bearer token, with what they may see. */
export interface Principal {
  userId: string;
  email: string;
  role: UserRole;
  /** Institutions whose studies the user sees (admins see all, whatever this holds). */
  institutionIds: string[];
  /** Studies of other institutions shared with the user's for a second read (radiologists); none if absent. */
  sharedStudyIds?: readonly string[];
  tokenId: string;
}
