import { pino, type Logger } from 'pino';
import type { LogLevel } from '../config/env.js';
import { serializeError } from './error-serializer.js';

export type { Logger };

/**
 * Structured JSON logs on stderr (stdout stays free for command output such as `--json`). Errors under `err`
 * or `error` (the Temporal SDK's key) go through serializeError: a database error is logged by its SQLSTATE
 * and a fingerprint of the statement, never with its SQL text or parameters.
 */
export function createLogger(
  level: LogLevel,
  bindings: Record<string, unknown> = {},
  destination: pino.DestinationStream = pino.destination({ fd: 2, sync: false }),
): Logger {
  return pino(
    {
      level,
      base: { service: 'nodus', ...bindings },
      serializers: { err: serializeError, error: serializeError },
    },
    destination,
  );
}
