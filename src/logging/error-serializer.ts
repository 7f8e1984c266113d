import {
  isDatabaseError,
  redactSqlText,
  summarizeDatabaseError,
  type DatabaseErrorSummary,
} from '../db/database-error.js';

/** Properties of an error that hold a statement or its values (postgres.js, drizzle, and their debug mode). */
const STATEMENT_PROPERTIES = new Set(['query', 'params', 'parameters', 'args', 'types', 'detail', 'where']);
/** How deep causes (and errors inside errors) are followed. */
const MAX_DEPTH = 8;

export interface SerializedError {
  type: string;
  message: string;
  stack?: string;
  cause?: unknown;
  [key: string]: unknown;
}

/**
 * pino serializer of `err` (and `error`): type, message, stack and the error's own properties, causes and
 * AggregateError members included, like pino's own, but a database error keeps only its SQLSTATE, severity,
 * routine, constraint, table and a fingerprint of the statement (see summarizeDatabaseError). No SQL text, no
 * parameter and no `detail` reaches a log line, from the error itself or a message or stack that embeds it.
 */
export function serializeError(value: unknown): unknown {
  return serialize(value, new WeakSet(), 0);
}

function serialize(value: unknown, seen: WeakSet<object>, depth: number): unknown {
  if (typeof value === 'string') return redactSqlText(value);
  if (!(value instanceof Error)) return value;
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return { type: typeName(value), message: '[cause chain too deep]' };
  seen.add(value);
  if (isDatabaseError(value)) return databaseError(value, summarizeDatabaseError(value), seen, depth);

  const message = redactSqlText(value.message);
  const out: SerializedError = {
    type: typeName(value),
    message,
    ...(value.stack !== undefined && { stack: safeStack(value, message) }),
  };
  for (const [key, property] of Object.entries(value)) {
    if (STATEMENT_PROPERTIES.has(key) || key in out) continue;
    out[key] = property instanceof Error ? serialize(property, seen, depth + 1) : property;
  }
  if (value.cause !== undefined) out.cause = serialize(value.cause, seen, depth + 1);
  if (value instanceof AggregateError) {
    out.errors = (value.errors as unknown[]).map((e) => serialize(e, seen, depth + 1));
  }
  return out;
}

function databaseError(
  error: Error,
  summary: DatabaseErrorSummary,
  seen: WeakSet<object>,
  depth: number,
): SerializedError {
  const { message: serverMessage, ...fields } = summary;
  // drizzle's wrapper says which statement failed; its cause (the server's error) says why.
  const message =
    error.cause === undefined || !summary.query ? serverMessage : `database query failed (${summary.query})`;
  const out: SerializedError = {
    type: typeName(error),
    message,
    ...fields,
    ...(error.stack !== undefined && { stack: safeStack(error, message) }),
  };
  if (error.cause !== undefined) out.cause = serialize(error.cause, seen, depth + 1);
  return out;
}

/** The stack with the error's message in its header replaced (V8 writes `<name>: <message>` first). */
function safeStack(error: Error, message: string): string {
  const stack = error.stack ?? '';
  const replaced =
    error.message && stack.includes(error.message) ? stack.replace(error.message, () => message) : stack;
  return redactSqlText(replaced);
}

function typeName(error: Error): string {
  const constructorName = (error.constructor as { name?: unknown } | undefined)?.name;
  return typeof constructorName === 'string' && constructorName !== '' ? constructorName : error.name;
}
