/**
 * Roles of API users.
 * - admin: manages users, tokens and institutions; sees everything.
 * - radiologist: reads and reviews the studies of their institutions, signs them off.
 * - programme: a screening programme's coordinator: triages the worklist of their institutions, no review.
 * - researcher: sees studies and findings of their institutions without identifying data (no names, patient
 *   ids, birth dates or accession numbers), for building cohorts.
 */
export const USER_ROLES = ['admin', 'radiologist', 'programme', 'researcher'] as const;

export type UserRole = (typeof USER_ROLES)[number];

/** Roles whose users see identifying patient data (names, ids, birth dates, accession numbers). */
export const ROLES_SEEING_IDENTITY: readonly UserRole[] = ['admin', 'radiologist', 'programme'];

/** Roles that may record review actions and sign studies off. */
export const REVIEWER_ROLES: readonly UserRole[] = ['radiologist'];
