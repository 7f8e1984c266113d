import { ApplicationFailure } from '@temporalio/common';
import { describeDatabaseError, isDatabaseError, summarizeDatabaseError } from '../db/database-error.js';
import { DomainError } from '../shared/errors.js';

/**
 * Maps a DomainError to an ApplicationFailure whose `type` is the error code. A database error becomes a
 * retryable failure of type `DATABASE_ERROR` that names its SQLSTATE and statement fingerprint but holds no
 * SQL or parameters (failures are kept in workflow histories and shown as snapshot errors). Other errors
 * pass through.
 */
export function toTemporalFailure(error: unknown): unknown {
  if (isDatabaseError(error)) {
    const { message: _message, ...summary } = summarizeDatabaseError(error);
    return ApplicationFailure.create({
      type: 'DATABASE_ERROR',
      message: describeDatabaseError(error),
      nonRetryable: false,
      details: [summary],
    });
  }
  if (!(error instanceof DomainError)) return error;
  return ApplicationFailure.create({
    type: error.code,
    message: error.message,
    nonRetryable: !error.retryable,
    details: [error.context],
    cause: error.cause instanceof Error ? (toTemporalFailure(error.cause) as Error) : undefined,
  });
}

/** Wraps every activity so DomainErrors leave it as typed ApplicationFailures (the one Temporal edge). */
export function withFailureMapping<T extends Record<string, (...args: never[]) => Promise<unknown>>>(
  activities: T,
): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, activity] of Object.entries(activities)) {
    wrapped[name] = async (...args: never[]) => {
      try {
        return await activity(...args);
      } catch (error) {
        throw toTemporalFailure(error);
      }
    };
  }
  return wrapped as T;
}
