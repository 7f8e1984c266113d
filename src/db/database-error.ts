import { createHash } from 'node:crypto';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import postgres from 'postgres';

/**
 * What of a failed query may be logged or sent to Temporal: the SQLSTATE and where it arose, and which
 * statement failed, by a fingerprint. Never the SQL text, its parameters (token hashes, patient data, audit
 * details) or PostgreSQL's `detail` (`Key (token_sha256)=(...) already exists.`).
 */
export interface DatabaseErrorSummary {
  /** SQLSTATE, e.g. `23505` (unique violation); absent for errors before the server answered. */
  code?: string;
  severity?: string;
  /** The server routine that raised it, e.g. `_bt_check_unique`. */
  routine?: string;
  constraint?: string;
  schema?: string;
  table?: string;
  column?: string;
  /** `insert audit_events`: the statement's verb and first table, never its text. */
  query?: string;
  /** First 12 hex digits of the SHA-256 of the SQL text: the same statement has the same hash in every log. */
  queryHash?: string;
  /** PostgreSQL's message with any parameter value in it replaced by `<redacted>`. */
  message: string;
}

type PostgresError = InstanceType<typeof postgres.PostgresError>;

/** A postgres.js server error, or drizzle's wrapper of one (`Failed query: <sql>\nparams: <params>`). */
export function isDatabaseError(error: unknown): error is DrizzleQueryError | PostgresError {
  return error instanceof DrizzleQueryError || error instanceof postgres.PostgresError;
}

/** The loggable part of a database error (see DatabaseErrorSummary); drizzle's wrapper takes its cause's code. */
export function summarizeDatabaseError(error: DrizzleQueryError | PostgresError): DatabaseErrorSummary {
  const server = error instanceof DrizzleQueryError ? postgresCause(error) : error;
  // postgres.js keeps the statement and its values on the error, not enumerable (unless `debug` is on).
  const text = error instanceof DrizzleQueryError ? error.query : server?.query;
  const values: unknown[] =
    error instanceof DrizzleQueryError ? error.params : ((server?.parameters as unknown[] | undefined) ?? []);
  const fingerprint = typeof text === 'string' ? queryFingerprint(text) : undefined;
  const message = server
    ? redactValues(server.message, values)
    : `database query failed${fingerprint ? ` (${fingerprint.query})` : ''}`;
  return {
    ...(server?.code && { code: server.code }),
    ...(server?.severity && { severity: server.severity }),
    ...(server?.routine && { routine: server.routine }),
    ...(server?.constraint_name && { constraint: server.constraint_name }),
    ...(server?.schema_name && { schema: server.schema_name }),
    ...(server?.table_name && { table: server.table_name }),
    ...(server?.column_name && { column: server.column_name }),
    ...fingerprint,
    message,
  };
}

/** One line naming a database error without its SQL or values: `23505 duplicate key ... (insert users)`. */
export function describeDatabaseError(error: DrizzleQueryError | PostgresError): string {
  const summary = summarizeDatabaseError(error);
  const where = summary.query ? ` (${summary.query})` : '';
  return summary.code ? `database error ${summary.code}: ${summary.message}${where}` : summary.message;
}

/** `insert audit_events`, `select studies`, `with cohort_members`: verb and first table of a statement. */
export function queryFingerprint(sqlText: string): { query: string; queryHash: string } {
  const statement = sqlText.replace(/\/\*[\s\S]*?\*\/|--[^\n]*/g, ' ').trim();
  const verb = /^[a-z]+/i.exec(statement)?.[0]?.toLowerCase() ?? 'sql';
  const table =
    /\b(?:into|update|from|join|table)\s+((?:"[^"]{1,63}"|\w{1,63})(?:\.(?:"[^"]{1,63}"|\w{1,63}))?)/i
      .exec(statement)?.[1]
      ?.replace(/"/g, '');
  return {
    query: table ? `${verb} ${table}` : verb,
    queryHash: createHash('sha256').update(sqlText).digest('hex').slice(0, 12),
  };
}

/** Removes drizzle's `Failed query: <sql>\nparams: <values>` (to the end) from a message that embeds one. */
export function redactSqlText(text: string): string {
  const at = text.indexOf('Failed query: ');
  return at < 0 ? text : `${text.slice(0, at)}database query failed (SQL and parameters not logged)`;
}

function postgresCause(error: DrizzleQueryError): PostgresError | undefined {
  return error.cause instanceof postgres.PostgresError ? error.cause : undefined;
}

/**
 * Replaces every parameter value found in a server message (`invalid input syntax for type uuid: "..."`);
 * values shorter than 4 characters are left, as they would match type names and numbers in the message.
 */
function redactValues(message: string, values: readonly unknown[]): string {
  let out = message;
  for (const value of values) {
    const text =
      typeof value === 'string' ? value : value instanceof Date ? undefined : JSON.stringify(value);
    if (text && text.length >= 4) out = out.split(text).join('<redacted>');
  }
  return out.replace(/(invalid input (?:syntax|value) for (?:type|enum) [\w ."]+): .*$/s, '$1: <redacted>');
}
