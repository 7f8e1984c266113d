/**
 * Stable error codes. They travel as the `code` of the HTTP error envelope and as the `type` of a Temporal
 * ApplicationFailure, so callers branch on them, never on messages.
 */
export const ERROR_CODES = [
  'VALIDATION_FAILED',
  'NOT_FOUND',
  'SERIES_NOT_FOUND',
  'INVALID_DICOM',
  /** A model file that is corrupt, missing, or does not match its manifest's sha256. */
  'MODEL_INVALID',
  /** Input that breaks a model's documented contract (spacing, size, orientation). */
  'MODEL_CONTRACT_VIOLATED',
  /** No bearer token, or one that is unknown, expired or revoked. */
  'UNAUTHENTICATED',
  /** A valid token whose user may not do this (role) or see this (institution). */
  'FORBIDDEN',
  /** Too many failed authentications from the caller's address: refused until its window ends (Retry-After). */
  'RATE_LIMITED',
  'CONFLICT',
  /** A share's link that has expired or been revoked: it existed, and will not open again. */
  'GONE',
  /** A request body, or one instance in it, over a configured limit. */
  'PAYLOAD_TOO_LARGE',
  /** The Accept header allows no representation nodus can produce (DICOMweb media types, transfer syntaxes). */
  'NOT_ACCEPTABLE',
  'DEPENDENCY_UNAVAILABLE',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface DomainErrorOptions {
  /** Whether repeating the same operation later may succeed (a network blip, not bad input). */
  retryable?: boolean;
  /** Machine-readable details safe to show to the caller. */
  context?: Record<string, unknown>;
  cause?: unknown;
}

/** The one error type of the domain; mapped once at each edge (HTTP, Temporal). */
export class DomainError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly context: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: DomainErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DomainError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.context = options.context ?? {};
  }
}
