import { isGrpcServiceError } from '@temporalio/client';
import { DomainError } from '../shared/errors.js';

/** A service the API needs: its readiness check and error messages name it. */
export type Dependency = 'postgres' | 'temporal';

export const DEPENDENCY_NAMES: Record<Dependency, string> = { postgres: 'PostgreSQL', temporal: 'Temporal' };

/** postgres.js's own codes of a connection that closed, ended, was destroyed or timed out connecting. */
const POSTGRES_JS_CONNECTION_CODES = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
]);

/** Node socket codes; postgres.js passes them on, adding the failed `query` to the error. */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** gRPC status codes UNAVAILABLE (14) and DEADLINE_EXCEEDED (4). */
const GRPC_UNAVAILABLE = new Set([14, 4]);

/**
 * Which dependency an error says is down, or undefined for any other error. PostgreSQL: a postgres.js
 * connection error, a socket error of a postgres.js query (it carries the `query`), or a server error with
 * SQLSTATE class 08 (connection exception), 57P01-57P03 (shutting down, crashed, starting up) or 53300 (too
 * many connections). Temporal: a gRPC UNAVAILABLE or DEADLINE_EXCEEDED. Causes (drizzle's
 * DrizzleQueryError, Temporal's ServiceError) are followed.
 */
export function unavailableDependency(error: unknown): Dependency | undefined {
  for (let depth = 0; error instanceof Error && depth < 8; depth += 1) {
    const { code } = error as { code?: unknown };
    if (isGrpcServiceError(error) && GRPC_UNAVAILABLE.has(error.code)) return 'temporal';
    if (typeof code === 'string') {
      if (error.name === 'PostgresError' && /^(08...|57P0[123]|53300)$/.test(code)) return 'postgres';
      if (POSTGRES_JS_CONNECTION_CODES.has(code)) return 'postgres';
      if (SOCKET_CODES.has(code) && Object.hasOwn(error, 'query')) return 'postgres';
    }
    error = error.cause;
  }
  return undefined;
}

/** The error the HTTP edge answers for an unavailable dependency: 503, no address, no detail. */
export function dependencyUnavailable(dependency: Dependency, cause?: unknown): DomainError {
  return new DomainError('DEPENDENCY_UNAVAILABLE', `${DEPENDENCY_NAMES[dependency]} is unavailable`, {
    retryable: true,
    context: { dependency },
    cause,
  });
}
