import { ApplicationFailure } from '@temporalio/common';
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
