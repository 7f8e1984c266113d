import { userSharedStudyIds } from './shares.js';
import { and, eq, gt, isNull, or, sql } from 'drizzle-orm';
import { newApiToken, tokenSha256 } from '../../access/api-token.js';
import type { Principal } from '../../access/principal.js';
import { DomainError } from '../../shared/errors.js';
import type { UserRole } from '../../shared/roles.js';
import type { Database, Queryable } from '../client.js';
import { apiTokens, institutions, userInstitutions, users } from '../schema/index.js';

export interface NewUser {
  email: string;
  displayName: string;
  role: UserRole;
  /** Codes of the institutions whose studies the user sees; created when unknown. */
  institutionCodes: string[];
}

export interface UserRecord {
  id: string;
  email: string;
  displayName: string;
  role: UserRole;
  institutionCodes: string[];
  disabled: boolean;
}

/** The institution with this code, created (named after the code) when it does not exist yet. */
export async function ensureInstitution(db: Queryable, code: string, name = code): Promise<string> {
  const [row] = await db
    .insert(institutions)
    .values({ code, name })
    .onConflictDoUpdate({ target: institutions.code, set: { code } })
    .returning({ id: institutions.id });
  if (!row) throw new DomainError('INTERNAL', `institution ${code} was not stored`);
  return row.id;
}

/** Creates a user; an email that is already taken is a CONFLICT. */
export async function createUser(db: Database, user: NewUser): Promise<UserRecord> {
  return db.transaction(async (tx) => {
    const [created] = await tx
      .insert(users)
      .values({ email: user.email.toLowerCase(), displayName: user.displayName, role: user.role })
      .onConflictDoNothing({ target: users.email })
      .returning();
    if (!created) throw new DomainError('CONFLICT', `a user with email ${user.email} exists`);
    for (const code of user.institutionCodes) {
      const institutionId = await ensureInstitution(tx, code);
      await tx.insert(userInstitutions).values({ userId: created.id, institutionId }).onConflictDoNothing();
    }
    return {
      id: created.id,
      email: created.email,
      displayName: created.displayName,
      role: created.role,
      institutionCodes: [...user.institutionCodes],
      disabled: false,
    };
  });
}

/** Every user with their institutions' codes, by email. */
export async function listUsers(db: Database): Promise<UserRecord[]> {
  const rows = await db
    .select({
      id: users.id,
      email: users.email,
      displayName: users.displayName,
      role: users.role,
      disabledAt: users.disabledAt,
      codes: sql<
        string[]
      >`coalesce(array_agg(${institutions.code} order by ${institutions.code}) filter (where ${institutions.code} is not null), '{}')`,
    })
    .from(users)
    .leftJoin(userInstitutions, eq(userInstitutions.userId, users.id))
    .leftJoin(institutions, eq(institutions.id, userInstitutions.institutionId))
    .groupBy(users.id)
    .orderBy(users.email);
  return rows.map((r) => ({
    id: r.id,
    email: r.email,
    displayName: r.displayName,
    role: r.role,
    institutionCodes: r.codes,
    disabled: r.disabledAt !== null,
  }));
}

export async function userExists(db: Database, id: string): Promise<boolean> {
  const [row] = await db.select({ id: users.id }).from(users).where(eq(users.id, id));
  return row !== undefined;
}

export async function findUserByEmail(db: Database, email: string) {
  const [row] = await db.select().from(users).where(eq(users.email, email.toLowerCase()));
  return row;
}

/**
 * Issues a bearer token for a user and returns it: the only time the token is seen, since only its SHA-256 is
 * stored. Pass `token` to register a known token (NODUS_ADMIN_TOKEN); registering it again changes nothing.
 */
export async function issueToken(
  db: Database,
  userId: string,
  options: { label: string; expiresAt?: Date; token?: string },
): Promise<{ id: string; token: string }> {
  const token = options.token ?? newApiToken();
  const [row] = await db
    .insert(apiTokens)
    .values({
      userId,
      tokenSha256: tokenSha256(token),
      label: options.label,
      expiresAt: options.expiresAt ?? null,
    })
    .onConflictDoUpdate({ target: apiTokens.tokenSha256, set: { label: options.label } })
    .returning({ id: apiTokens.id, userId: apiTokens.userId });
  if (!row || row.userId !== userId) {
    throw new DomainError('CONFLICT', 'that token already belongs to another user');
  }
  return { id: row.id, token };
}

/** Revokes a token; its user's other tokens stay valid. */
export async function revokeToken(db: Database, tokenId: string): Promise<boolean> {
  const rows = await db
    .update(apiTokens)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiTokens.id, tokenId), isNull(apiTokens.revokedAt)))
    .returning({ id: apiTokens.id });
  return rows.length > 0;
}

/** The principal behind a token, or undefined when the token is unknown, revoked, expired or its user disabled. */
/** The ids of the institutions a user (the row of `users` in the query) sees, as a uuid[] column. */
export const userInstitutionIds = sql<
  string[]
>`coalesce((select array_agg(${userInstitutions.institutionId}) from ${userInstitutions} where ${userInstitutions.userId} = ${users.id}), '{}')`;

export async function principalForToken(db: Database, token: string): Promise<Principal | undefined> {
  const [row] = await db
    .select({
      tokenId: apiTokens.id,
      userId: users.id,
      email: users.email,
      role: users.role,
      institutionIds: userInstitutionIds,
      sharedStudyIds: userSharedStudyIds,
    })
    .from(apiTokens)
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .where(
      and(
        eq(apiTokens.tokenSha256, tokenSha256(token)),
        isNull(apiTokens.revokedAt),
        or(isNull(apiTokens.expiresAt), gt(apiTokens.expiresAt, sql`now()`)),
        isNull(users.disabledAt),
      ),
    );
  return row;
}

/**
 * Makes sure an administrator holds `token` (NODUS_ADMIN_TOKEN): creates admin@nodus.local when no such user
 * exists and registers the token for it. Idempotent, so every start-up may call it.
 */
export async function seedAdminToken(db: Database, token: string): Promise<void> {
  const email = 'admin@nodus.local';
  const existing = await findUserByEmail(db, email);
  const userId =
    existing?.id ??
    (await createUser(db, { email, displayName: 'Administrator', role: 'admin', institutionCodes: [] })).id;
  await issueToken(db, userId, { label: 'seeded from NODUS_ADMIN_TOKEN', token });
}
