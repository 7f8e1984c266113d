import { randomBytes } from 'node:crypto';
import { and, desc, eq, gt, inArray, isNull, lte, sql } from 'drizzle-orm';
import { tokenSha256 } from '../../access/api-token.js';
import { DomainError } from '../../shared/errors.js';
import type {
  SecondFactor,
  ShareAudience,
  ShareGrant,
  ShareOpeningOutcome,
  ShareScope,
} from '../../sharing/share-scope.js';
import type { Database } from '../client.js';
import {
  institutions,
  instances,
  patients,
  series,
  shareOpenings,
  shareSessions,
  shares,
  studies,
  userInstitutions,
  users,
  type ShareRow,
} from '../schema/index.js';

/** How long a viewer session opened from a link lasts at most (it ends earlier with its share). */
export const SHARE_SESSION_HOURS = 4;

export interface NewShare {
  studyId: string;
  audience: ShareAudience;
  partnerInstitutionId?: string | undefined;
  parentShareId?: string | undefined;
  secretSha256: string;
  scope: ShareScope | null;
  allowDownload: boolean;
  secondFactor: SecondFactor;
  pinHash?: string | undefined;
  notBefore: Date;
  expiresAt: Date;
  createdByUserId?: string | undefined;
  offeredByConsortium?: boolean;
  secondReadDueAt?: Date | undefined;
}

/** Records a share; its secret's SHA-256 is in `input`. */
export async function insertShare(db: Database, input: NewShare): Promise<ShareRow> {
  const [row] = await db.insert(shares).values(input).returning();
  return row!;
}

/** A share and whom it belongs to, as a link's owner (the sharing institution) sees it. */
export interface ShareSummary {
  id: string;
  studyId: string;
  audience: ShareAudience;
  partnerInstitution: string | null;
  parentShareId: string | null;
  scope: ShareScope | null;
  allowDownload: boolean;
  secondFactor: SecondFactor;
  notBefore: string;
  expiresAt: string;
  revokedAt: string | null;
  createdAt: string;
  offeredByConsortium: boolean;
  secondReadDueAt: string | null;
  secondReadOverdueAt: string | null;
  lastUsedAt: string | null;
  useCount: number;
  status: 'active' | 'not-yet-valid' | 'expired' | 'revoked';
  openings: ShareOpening[];
}

export interface ShareOpening {
  occurredAt: string;
  outcome: ShareOpeningOutcome;
  address: string | null;
  userAgent: string | null;
}

/** Whether a share is usable now, and if not why. */
export function shareStatus(
  row: Pick<ShareRow, 'revokedAt' | 'notBefore' | 'expiresAt'>,
  now = new Date(),
): ShareSummary['status'] {
  if (row.revokedAt) return 'revoked';
  if (row.expiresAt <= now) return 'expired';
  if (row.notBefore > now) return 'not-yet-valid';
  return 'active';
}

/** Most openings listed per share (the newest). */
const OPENINGS_LISTED = 100;

async function summaries(db: Database, rows: ShareRow[]): Promise<ShareSummary[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const partnerIds = rows.flatMap((r) => (r.partnerInstitutionId ? [r.partnerInstitutionId] : []));
  const partners = new Map(
    partnerIds.length === 0
      ? []
      : (
          await db
            .select({ id: institutions.id, code: institutions.code })
            .from(institutions)
            .where(inArray(institutions.id, partnerIds))
        ).map((p) => [p.id, p.code]),
  );
  const openings = await db.execute<{
    share_id: string;
    occurred_at: string;
    outcome: ShareOpeningOutcome;
    address: string | null;
    user_agent: string | null;
  }>(sql`
    select o.share_id, o.occurred_at::text, o.outcome, o.address, o.user_agent
    from unnest(${`{${ids.join(',')}}`}::uuid[]) as s(id)
    cross join lateral (
      select * from ${shareOpenings} so where so.share_id = s.id order by so.occurred_at desc, so.id desc
      limit ${OPENINGS_LISTED}
    ) o`);
  const byShare = new Map<string, ShareOpening[]>();
  for (const o of openings) {
    const list = byShare.get(o.share_id) ?? [];
    list.push({
      occurredAt: new Date(o.occurred_at).toISOString(),
      outcome: o.outcome,
      address: o.address,
      userAgent: o.user_agent,
    });
    byShare.set(o.share_id, list);
  }
  return rows.map((r) => ({
    id: r.id,
    studyId: r.studyId,
    audience: r.audience,
    partnerInstitution: r.partnerInstitutionId ? (partners.get(r.partnerInstitutionId) ?? null) : null,
    parentShareId: r.parentShareId,
    scope: r.scope,
    allowDownload: r.allowDownload,
    secondFactor: r.secondFactor,
    notBefore: r.notBefore.toISOString(),
    expiresAt: r.expiresAt.toISOString(),
    revokedAt: r.revokedAt?.toISOString() ?? null,
    createdAt: r.createdAt.toISOString(),
    offeredByConsortium: r.offeredByConsortium,
    secondReadDueAt: r.secondReadDueAt?.toISOString() ?? null,
    secondReadOverdueAt: r.secondReadOverdueAt?.toISOString() ?? null,
    lastUsedAt: r.lastUsedAt?.toISOString() ?? null,
    useCount: r.useCount,
    status: shareStatus(r),
    openings: byShare.get(r.id) ?? [],
  }));
}

/** Every share of a study (passed-on links included), newest first, with their openings. */
export async function studyShares(db: Database, studyId: string): Promise<ShareSummary[]> {
  const rows = await db
    .select()
    .from(shares)
    .where(eq(shares.studyId, studyId))
    .orderBy(desc(shares.createdAt), desc(shares.id));
  return summaries(db, rows);
}

/** A patient's film: the share it started from and every link passed on from it, the root first. */
export async function filmLinks(db: Database, rootShareId: string): Promise<ShareSummary[]> {
  const rows = await db
    .select()
    .from(shares)
    .where(sql`${shares.id} = ${rootShareId}::uuid or ${shares.parentShareId} = ${rootShareId}::uuid`)
    .orderBy(sql`${shares.parentShareId} is not null`, desc(shares.createdAt));
  return summaries(db, rows);
}

export async function shareById(db: Database, shareId: string): Promise<ShareRow | undefined> {
  const [row] = await db.select().from(shares).where(eq(shares.id, shareId));
  return row;
}

/**
 * Revokes a share and the links passed on from it; their viewer sessions end with them (every request checks
 * the share). Returns false when it was already revoked.
 */
export async function revokeShare(db: Database, shareId: string): Promise<boolean> {
  const now = new Date();
  const rows = await db
    .update(shares)
    .set({ revokedAt: now })
    .where(
      and(
        sql`(${shares.id} = ${shareId}::uuid or ${shares.parentShareId} = ${shareId}::uuid)`,
        isNull(shares.revokedAt),
      ),
    )
    .returning({ id: shares.id });
  return rows.some((r) => r.id === shareId);
}

/** A link's share with what its second factor is checked against (the patient's birth date). */
export interface LinkedShare {
  share: ShareRow;
  studyInstanceUid: string;
  patientBirthDate: string | null;
  institutionName: string;
}

/** The share a link's secret opens, whatever its state; undefined for an unknown secret. */
export async function shareForSecret(db: Database, secret: string): Promise<LinkedShare | undefined> {
  const [row] = await db
    .select({
      share: shares,
      studyInstanceUid: studies.studyInstanceUid,
      patientBirthDate: patients.birthDate,
      institutionName: institutions.name,
    })
    .from(shares)
    .innerJoin(studies, eq(studies.id, shares.studyId))
    .innerJoin(patients, eq(patients.id, studies.patientId))
    .innerJoin(institutions, eq(institutions.id, patients.institutionId))
    .where(eq(shares.secretSha256, tokenSha256(secret)));
  return row;
}

/** Records one following of a link. */
export async function recordOpening(
  db: Database,
  shareId: string,
  outcome: ShareOpeningOutcome,
  client: { address?: string | undefined; userAgent?: string | undefined },
): Promise<void> {
  await db.insert(shareOpenings).values({
    shareId,
    outcome,
    address: client.address ?? null,
    userAgent: client.userAgent?.slice(0, 500) ?? null,
  });
}

/** Wrong second factors given for a share since `since`: the link locks after a few (guessing a PIN). */
export async function wrongSecondFactors(db: Database, shareId: string, since: Date): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(shareOpenings)
    .where(
      and(
        eq(shareOpenings.shareId, shareId),
        eq(shareOpenings.outcome, 'wrong-second-factor'),
        gt(shareOpenings.occurredAt, since),
      ),
    );
  return row?.n ?? 0;
}

/**
 * Exchanges a usable share for a viewer session: a cookie secret (256 bits, its SHA-256 stored) that lasts
 * {@link SHARE_SESSION_HOURS} or until the share expires, whichever is first. Counts the use.
 */
export async function openShareSession(
  db: Database,
  share: ShareRow,
): Promise<{ secret: string; csrfToken: string; expiresAt: Date }> {
  const secret = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(24).toString('base64url');
  const expiresAt = new Date(
    Math.min(Date.now() + SHARE_SESSION_HOURS * 3_600_000, share.expiresAt.getTime()),
  );
  await db.transaction(async (tx) => {
    await tx
      .insert(shareSessions)
      .values({ shareId: share.id, sessionSha256: tokenSha256(secret), csrfToken, expiresAt });
    await tx
      .update(shares)
      .set({ useCount: sql`${shares.useCount} + 1`, lastUsedAt: new Date() })
      .where(eq(shares.id, share.id));
  });
  return { secret, csrfToken, expiresAt };
}

/**
 * What a viewer session's cookie grants: its share's study and scope while the session, the share and the
 * share it was passed on from are all valid (not revoked, not expired); undefined otherwise. Looked up on every
 * request, so a revocation ends the session's access at once.
 */
export async function grantForSession(
  db: Database,
  secret: string,
): Promise<{ grant: ShareGrant; csrfToken: string } | undefined> {
  const rows = await db.execute<{
    session_id: string;
    csrf_token: string;
    session_expires_at: string;
    share_id: string;
    parent_share_id: string | null;
    study_id: string;
    study_instance_uid: string;
    scope: ShareScope | null;
    allow_download: boolean;
    audience: ShareAudience;
    share_expires_at: string;
  }>(sql`
    select ss.id as session_id, ss.csrf_token, ss.expires_at::text as session_expires_at,
      sh.id as share_id, sh.parent_share_id, sh.study_id, st.study_instance_uid, sh.scope,
      sh.allow_download, sh.audience, sh.expires_at::text as share_expires_at
    from ${shareSessions} ss
    join ${shares} sh on sh.id = ss.share_id
    join ${studies} st on st.id = sh.study_id
    left join ${shares} parent on parent.id = sh.parent_share_id
    where ss.session_sha256 = ${tokenSha256(secret)} and ss.expires_at > now()
      and sh.revoked_at is null and sh.expires_at > now() and sh.not_before <= now()
      and (sh.parent_share_id is null or (parent.revoked_at is null and parent.expires_at > now()))`);
  const row = rows[0];
  if (!row) return undefined;
  return {
    csrfToken: row.csrf_token,
    grant: {
      shareId: row.share_id,
      rootShareId: row.parent_share_id ?? row.share_id,
      sessionId: row.session_id,
      studyId: row.study_id,
      studyInstanceUid: row.study_instance_uid,
      scope: row.scope,
      allowDownload: row.allow_download,
      audience: row.audience,
      canPassOn: row.audience === 'patient' && row.parent_share_id === null,
      expiresAt: new Date(row.session_expires_at),
      linkExpiresAt: new Date(row.share_expires_at),
    },
  };
}

/**
 * The SOP Instance UIDs of a study a scope covers (null: the whole study), so a narrower scope can be checked
 * against a wider one; NOT_FOUND naming a series or image the study does not hold.
 */
export async function instancesInScope(
  db: Database,
  studyId: string,
  scope: ShareScope | null,
): Promise<Set<string>> {
  const rows = await db
    .select({ sop: instances.sopInstanceUid, series: series.seriesInstanceUid })
    .from(instances)
    .innerJoin(series, eq(series.id, instances.seriesId))
    .where(eq(series.studyId, studyId));
  if (scope === null) return new Set(rows.map((r) => r.sop));
  const wantedSeries = new Set(scope.seriesInstanceUids ?? []);
  const wantedImages = new Set(scope.sopInstanceUids ?? []);
  const knownSeries = new Set(rows.map((r) => r.series));
  const knownImages = new Set(rows.map((r) => r.sop));
  for (const uid of wantedSeries) {
    if (!knownSeries.has(uid)) throw new DomainError('NOT_FOUND', `the study has no series ${uid}`);
  }
  for (const uid of wantedImages) {
    if (!knownImages.has(uid)) throw new DomainError('NOT_FOUND', `the study has no image ${uid}`);
  }
  return new Set(rows.filter((r) => wantedSeries.has(r.series) || wantedImages.has(r.sop)).map((r) => r.sop));
}

/**
 * The studies shared with the institutions of the user in the enclosing query (`users`), for its radiologists:
 * active institution shares only. A uuid[] column.
 */
export const userSharedStudyIds = sql<string[]>`coalesce((
  select array_agg(distinct sh.study_id) from ${shares} sh
  join ${userInstitutions} ui on ui.institution_id = sh.partner_institution_id
  where ui.user_id = ${users.id} and ${users.role} = 'radiologist' and sh.audience = 'institution'
    and sh.revoked_at is null and sh.not_before <= now() and sh.expires_at > now()), '{}')`;

/** The active institution share through which `institutionIds` see a study, if any (the newest). */
export async function activeInstitutionShare(
  db: Database,
  studyId: string,
  institutionIds: readonly string[],
): Promise<ShareRow | undefined> {
  if (institutionIds.length === 0) return undefined;
  const [row] = await db
    .select()
    .from(shares)
    .where(
      and(
        eq(shares.studyId, studyId),
        eq(shares.audience, 'institution'),
        inArray(shares.partnerInstitutionId, [...institutionIds]),
        isNull(shares.revokedAt),
        lte(shares.notBefore, sql`now()`),
        gt(shares.expiresAt, sql`now()`),
      ),
    )
    .orderBy(desc(shares.createdAt));
  return row;
}

/** Marks a share's second read overdue (its timer fired with no second read); false when one came in. */
export async function markSecondReadOverdue(db: Database, shareId: string): Promise<boolean> {
  const rows = await db.execute<{ id: string }>(sql`
    update ${shares} sh set second_read_overdue_at = now()
    where sh.id = ${shareId}::uuid and sh.second_read_overdue_at is null and sh.revoked_at is null
      and not exists (select 1 from second_reads r where r.share_id = sh.id)
    returning sh.id`);
  return rows.length > 0;
}

/** Ends the viewer sessions of an expired share (its timer fired); returns how many were open. */
export async function endExpiredShareSessions(db: Database, shareId: string): Promise<number> {
  const rows = await db
    .update(shareSessions)
    .set({ expiresAt: sql`now()` })
    .where(and(eq(shareSessions.shareId, shareId), gt(shareSessions.expiresAt, sql`now()`)))
    .returning({ id: shareSessions.id });
  return rows.length;
}
