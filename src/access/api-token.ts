import { createHash, randomBytes } from 'node:crypto';

/** Prefix of every nodus token, so secret scanners and people can recognise one. */
export const TOKEN_PREFIX = 'nodus_';

/** A new bearer token: the prefix and 256 random bits, base64url. Shown once; only its hash is stored. */
export function newApiToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** Hex SHA-256 of a token: what the database stores and looks tokens up by. */
export function tokenSha256(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
