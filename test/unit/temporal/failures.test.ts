import { ApplicationFailure } from '@temporalio/common';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../src/shared/errors.js';
import { toTemporalFailure, withFailureMapping } from '../../../src/temporal/failures.js';

describe('toTemporalFailure', () => {
  it('maps a DomainError to an ApplicationFailure typed by its code', () => {
    const failure = toTemporalFailure(
      new DomainError('SERIES_NOT_FOUND', 'gone', { context: { uid: '1.2' } }),
    );
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({
      type: 'SERIES_NOT_FOUND',
      message: 'gone',
      nonRetryable: true,
      details: [{ uid: '1.2' }],
    });
  });

  it('keeps retryable errors retryable', () => {
    const failure = toTemporalFailure(
      new DomainError('DEPENDENCY_UNAVAILABLE', 'db down', { retryable: true }),
    );
    expect(failure).toMatchObject({ nonRetryable: false });
  });

  it('maps a database error to a retryable failure naming its SQLSTATE and statement, not its SQL or values', () => {
    const Make = postgres.PostgresError as unknown as new (fields: object) => Error;
    const server = new Make({
      message: 'duplicate key value violates unique constraint "api_tokens_sha256_key"',
      code: '23505',
      detail: 'Key (token_sha256)=(SECRET-HASH) already exists.',
      table_name: 'api_tokens',
    });
    const sql = 'insert into "api_tokens" ("token_sha256") values ($1)';
    for (const error of [
      new DrizzleQueryError(sql, ['SECRET-HASH'], server),
      new DomainError('INTERNAL', 'x', { cause: new DrizzleQueryError(sql, ['SECRET-HASH'], server) }),
    ]) {
      const failure = toTemporalFailure(error) as ApplicationFailure;
      const failures = [failure, failure.cause].filter((f) => f instanceof ApplicationFailure);
      const database = failures.find((f) => f.type === 'DATABASE_ERROR');
      expect(database).toMatchObject({
        nonRetryable: false,
        message:
          'database error 23505: duplicate key value violates unique constraint "api_tokens_sha256_key" (insert api_tokens)',
        details: [{ code: '23505', table: 'api_tokens', query: 'insert api_tokens' }],
      });
      expect(
        JSON.stringify([failure.message, failure.details, failure.cause?.message, database?.details]),
      ).not.toMatch(/SECRET-HASH|values \(/);
    }
  });

  it('passes other errors through unchanged', () => {
    const error = new TypeError('bug');
    expect(toTemporalFailure(error)).toBe(error);
  });

  it('wraps every activity', async () => {
    const activities = withFailureMapping({
      ok: async (x: number) => Promise.resolve(x * 2),
      bad: async () => Promise.reject(new DomainError('INVALID_DICOM', 'broken')),
    });
    expect(await activities.ok(21)).toBe(42);
    await expect(activities.bad()).rejects.toMatchObject({ type: 'INVALID_DICOM', nonRetryable: true });
  });
});
