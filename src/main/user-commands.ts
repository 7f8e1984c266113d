import { createUser, findUserByEmail, issueToken } from '../db/repositories/users.js';
import type { Database } from '../db/client.js';
import { DomainError } from '../shared/errors.js';
import { USER_ROLES, type UserRole } from '../shared/roles.js';

/** `nodus user add`: creates a user and prints it as JSON. */
export async function userAddCommand(
  db: Database,
  options: { email: string; name: string; role: string; institutions: string[] },
  out: Pick<NodeJS.WritableStream, 'write'> = process.stdout,
): Promise<number> {
  if (!(USER_ROLES as readonly string[]).includes(options.role)) {
    throw new DomainError('VALIDATION_FAILED', `--role must be one of ${USER_ROLES.join(', ')}`);
  }
  if (!/^[^@\s]+@[^@\s]+$/.test(options.email)) {
    throw new DomainError('VALIDATION_FAILED', `--email ${options.email} is not an email address`);
  }
  const user = await createUser(db, {
    email: options.email,
    displayName: options.name,
    role: options.role as UserRole,
    institutionCodes: options.institutions,
  });
  out.write(`${JSON.stringify(user, null, 2)}\n`);
  return 0;
}

/** `nodus token create`: issues a bearer token for a user and prints it once (only its hash is kept). */
export async function tokenCreateCommand(
  db: Database,
  options: { email: string; label: string; expiresInDays?: number | undefined },
  out: Pick<NodeJS.WritableStream, 'write'> = process.stdout,
): Promise<number> {
  const user = await findUserByEmail(db, options.email);
  if (!user) throw new DomainError('NOT_FOUND', `no user with email ${options.email}`);
  const issued = await issueToken(db, user.id, {
    label: options.label,
    ...(options.expiresInDays !== undefined && {
      expiresAt: new Date(Date.now() + options.expiresInDays * 86_400_000),
    }),
  });
  out.write(`${JSON.stringify({ tokenId: issued.id, token: issued.token, user: user.email }, null, 2)}\n`);
  return 0;
}
