import { ApplicationFailure } from '@temporalio/common';
import { DomainError } from '../shared/errors.js';

/** Maps a DomainError to an ApplicationFailure whose `type` is the error code; other errors pass through. */
export function toTemporalFailure(error: unknown): unknown {
  if (!(error instanceof DomainError)) return error;
  return ApplicationFailure.create({
    type: error.code,
    message: error.message,
    nonRetryable: !error.retryable,
    details: [error.context],
    cause: error.cause instanceof Error ? error.cause : undefined,
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
