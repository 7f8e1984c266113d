import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ErrorCode } from '../shared/errors.js';

/** HTTP status of every error code; exhaustive, so a new code cannot ship without a status. */
export const HTTP_STATUS_BY_CODE = {
  VALIDATION_FAILED: 400,
  INVALID_DICOM: 400,
  MODEL_INVALID: 500,
  MODEL_CONTRACT_VIOLATED: 422,
  NOT_FOUND: 404,
  SERIES_NOT_FOUND: 404,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  RATE_LIMITED: 429,
  CONFLICT: 409,
  GONE: 410,
  PAYLOAD_TOO_LARGE: 413,
  NOT_ACCEPTABLE: 406,
  DEPENDENCY_UNAVAILABLE: 503,
  INTERNAL: 500,
} as const satisfies Record<ErrorCode, ContentfulStatusCode>;

export interface ErrorEnvelope {
  error: { code: ErrorCode; message: string; requestId: string; details?: unknown };
}
