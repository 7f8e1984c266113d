import { eq } from 'drizzle-orm';
import { tokenSha256 } from '../access/api-token.js';
import type { Database } from '../db/client.js';
import { insertShare, instancesInScope } from '../db/repositories/shares.js';
import { studyAccess } from '../db/repositories/study-detail.js';
import { institutions, patients, studies, type ShareRow } from '../db/schema/index.js';
import { DomainError } from '../shared/errors.js';
import { hashPin } from './second-factor-hash.js';
import { newShareSecret } from './share-link.js';
import {
  DEFAULT_SHARE_HOURS,
  MAX_SHARE_HOURS,
  type SecondFactor,
  type ShareAudience,
  type ShareScope,
} from './share-scope.js';

/** What a person asks for when sharing (the API's body, validated for shape). */
export interface ShareRequest {
  audience: ShareAudience;
  /** The partner institution's code (audience `institution`). */
  institution?: string | undefined;
  expiresInHours?: number | undefined;
  allowDownload?: boolean | undefined;
  /** A PIN the opener must type (4-12 digits); implies secondFactor `pin`. */
  pin?: string | undefined;
  /** `birth-date`: the opener must type the patient's birth date. */
  secondFactor?: SecondFactor | undefined;
  scope?: ShareScope | undefined;
  /** When the partner's second read is due (audience `institution`), hours from now; 72 unless given. */
  secondReadDueInHours?: number | undefined;
}

/** A link passed on from a film lasts 72 hours unless asked, and never beyond the film's own expiry. */
export const DEFAULT_PASSED_ON_HOURS = 72;
export const DEFAULT_SECOND_READ_HOURS = 72;

const HOUR_MS = 3_600_000;
const invalid = (message: string) => new DomainError('VALIDATION_FAILED', message);

/**
 * Records a share of a study and returns it with its secret (shown once). `parent`: the patient's film it is
 * passed on from, which bounds it: a patient share, never wider in scope, never longer, downloads only when the
 * film allows them. Validates the partner institution, the scope's UIDs and the second factor.
 */
export async function createShare(
  db: Database,
  input: {
    studyId: string;
    request: ShareRequest;
    createdByUserId?: string | undefined;
    parent?: ShareRow | undefined;
    offeredByConsortium?: boolean;
    now?: Date;
  },
): Promise<{ share: ShareRow; secret: string }> {
  const { request, parent } = input;
  const now = input.now ?? new Date();
  const owner = await studyAccess(db, input.studyId);
  if (!owner) throw new DomainError('NOT_FOUND', `study ${input.studyId} is unknown`);

  let partnerInstitutionId: string | undefined;
  if (request.audience === 'institution') {
    if (parent) throw invalid('a film is passed on to a person (audience patient), not to an institution');
    if (!request.institution) throw invalid('institution: a share with an institution names its code');
    const [partner] = await db
      .select({ id: institutions.id })
      .from(institutions)
      .where(eq(institutions.code, request.institution));
    if (!partner) throw invalid(`institution: no institution ${request.institution}`);
    if (partner.id === owner.institutionId)
      throw invalid("institution: the study is already that institution's");
    partnerInstitutionId = partner.id;
  } else if (request.institution !== undefined) {
    throw invalid('institution: only a share with an institution names one');
  }

  const hours = request.expiresInHours ?? (parent ? DEFAULT_PASSED_ON_HOURS : DEFAULT_SHARE_HOURS);
  if (!(hours > 0 && hours <= MAX_SHARE_HOURS)) {
    throw invalid(`expiresInHours: between 0 and ${MAX_SHARE_HOURS} (a year)`);
  }
  let expiresAt = new Date(now.getTime() + hours * HOUR_MS);
  if (parent && expiresAt > parent.expiresAt) {
    if (request.expiresInHours !== undefined) {
      throw invalid(
        `expiresInHours: a link passed on expires with the film at the latest (${parent.expiresAt.toISOString()})`,
      );
    }
    expiresAt = parent.expiresAt;
  }

  const allowDownload = request.allowDownload ?? false;
  if (parent && allowDownload && !parent.allowDownload) {
    throw invalid('allowDownload: the film itself does not allow downloads');
  }

  const scope = normalizedScope(request.scope);
  // A whole-study share of a study (not passed on) needs no image checked.
  try {
    const covered =
      scope === null && !parent ? new Set<string>() : await instancesInScope(db, input.studyId, scope);
    if (scope !== null && covered.size === 0) throw invalid('scope: covers no image of the study');
    if (parent) {
      const allowed = await instancesInScope(db, input.studyId, parent.scope);
      if ([...covered].some((uid) => !allowed.has(uid))) {
        throw invalid('scope: a link passed on covers at most what the film covers');
      }
    }
  } catch (error) {
    if (error instanceof DomainError && error.code === 'NOT_FOUND') throw invalid(`scope: ${error.message}`);
    throw error;
  }

  const secondFactor: SecondFactor = request.pin !== undefined ? 'pin' : (request.secondFactor ?? 'none');
  if (request.pin !== undefined && request.secondFactor !== undefined && request.secondFactor !== 'pin') {
    throw invalid('pin: a PIN is the second factor pin');
  }
  if (secondFactor === 'pin' && (request.pin === undefined || !/^\d{4,12}$/.test(request.pin))) {
    throw invalid('pin: 4 to 12 digits');
  }
  if (secondFactor === 'birth-date' && !(await patientBirthDate(db, input.studyId))) {
    throw invalid("secondFactor: the patient's birth date is not known, so it cannot protect the link");
  }

  let secondReadDueAt: Date | undefined;
  if (request.audience === 'institution') {
    const dueHours = request.secondReadDueInHours ?? DEFAULT_SECOND_READ_HOURS;
    if (!(dueHours > 0 && dueHours <= hours)) {
      throw invalid('secondReadDueInHours: after now and before the share expires');
    }
    secondReadDueAt = new Date(now.getTime() + dueHours * HOUR_MS);
  } else if (request.secondReadDueInHours !== undefined) {
    throw invalid('secondReadDueInHours: only a share with an institution has a second read');
  }

  const secret = newShareSecret();
  const share = await insertShare(db, {
    studyId: input.studyId,
    audience: request.audience,
    partnerInstitutionId,
    parentShareId: parent?.id,
    secretSha256: tokenSha256(secret),
    scope,
    allowDownload,
    secondFactor,
    pinHash: secondFactor === 'pin' ? await hashPin(request.pin!) : undefined,
    notBefore: now,
    expiresAt,
    createdByUserId: input.createdByUserId,
    offeredByConsortium: input.offeredByConsortium ?? false,
    secondReadDueAt,
  });
  return { share, secret };
}

/** A scope with nothing in it is the whole study (null); UIDs are deduplicated. */
function normalizedScope(scope: ShareScope | undefined): ShareScope | null {
  const series = [...new Set(scope?.seriesInstanceUids ?? [])];
  const images = [...new Set(scope?.sopInstanceUids ?? [])];
  if (series.length === 0 && images.length === 0) return null;
  return {
    ...(series.length > 0 && { seriesInstanceUids: series }),
    ...(images.length > 0 && { sopInstanceUids: images }),
  };
}

async function patientBirthDate(db: Database, studyId: string): Promise<string | null> {
  const [row] = await db
    .select({ birthDate: patients.birthDate })
    .from(studies)
    .innerJoin(patients, eq(patients.id, studies.patientId))
    .where(eq(studies.id, studyId));
  return row?.birthDate ?? null;
}
