import { Writable } from 'node:stream';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { queryFingerprint } from '../../../src/db/database-error.js';
import { serializeError } from '../../../src/logging/error-serializer.js';
import { createLogger } from '../../../src/logging/logger.js';
import { DomainError } from '../../../src/shared/errors.js';

const SECRET = 'SECRET-TOKEN-HASH-5d41402abc4b2a76';
const SQL_TEXT =
  'insert into "api_tokens" ("id", "user_id", "token_sha256", "label") values (default, $1, $2, $3)';

type PostgresError = InstanceType<typeof postgres.PostgresError>;
/** A server error as postgres.js makes one: fields assigned, statement and values not enumerable. */
function postgresError(fields: Record<string, string>, values: unknown[] = [SECRET]): PostgresError {
  const Make = postgres.PostgresError as unknown as new (fields: Record<string, string>) => PostgresError;
  const error = new Make(fields);
  Object.defineProperties(error, {
    query: { value: SQL_TEXT, enumerable: false },
    parameters: { value: values, enumerable: false },
  });
  return error;
}

const uniqueViolation = () =>
  postgresError({
    message: 'duplicate key value violates unique constraint "api_tokens_sha256_key"',
    severity: 'ERROR',
    code: '23505',
    detail: `Key (token_sha256)=(${SECRET}) already exists.`,
    schema_name: 'public',
    table_name: 'api_tokens',
    constraint_name: 'api_tokens_sha256_key',
    routine: '_bt_check_unique',
  });
const drizzleError = (cause: unknown = uniqueViolation()) =>
  new DrizzleQueryError(SQL_TEXT, ['00000000-0000-4000-8000-000000000001', SECRET, 'laptop'], cause as Error);

function logged(value: Record<string, unknown>): string {
  const lines: string[] = [];
  const logger = createLogger(
    'info',
    {},
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    }),
  );
  logger.error(value, 'failed');
  return lines.join('');
}

describe('serializeError', () => {
  it.each([
    ['a drizzle query error', () => drizzleError()],
    ['a postgres.js error', () => uniqueViolation()],
    [
      'a DomainError caused by a drizzle error',
      () => new DomainError('INTERNAL', 'x', { cause: drizzleError() }),
    ],
    [
      'an error whose message embeds drizzle`s',
      () => new Error(`cohort snapshot s was not frozen: ${drizzleError().message}`),
    ],
    [
      'an AggregateError of drizzle errors',
      () => new AggregateError([drizzleError(), drizzleError()], 'two'),
    ],
  ])('logs %s without SQL, parameters or detail, under err and error', (_name, make) => {
    for (const key of ['err', 'error']) {
      const line = logged({ [key]: make() });
      expect(line, line).not.toContain(SECRET);
      expect(line, line).not.toContain('token_sha256');
      expect(line, line).not.toMatch(/values \(|params:|\$2/);
    }
  });

  it('keeps the SQLSTATE, severity, routine, constraint, table and a fingerprint of the statement', () => {
    const serialized = serializeError(drizzleError()) as Record<string, unknown>;
    expect(serialized).toMatchObject({
      type: 'DrizzleQueryError',
      message: 'database query failed (insert api_tokens)',
      query: 'insert api_tokens',
      queryHash: expect.stringMatching(/^[0-9a-f]{12}$/) as unknown,
      cause: {
        type: 'PostgresError',
        code: '23505',
        severity: 'ERROR',
        routine: '_bt_check_unique',
        constraint: 'api_tokens_sha256_key',
        schema: 'public',
        table: 'api_tokens',
        query: 'insert api_tokens',
        message: 'duplicate key value violates unique constraint "api_tokens_sha256_key"',
      },
    });
    expect(serialized.stack).toMatch(/^Error: database query failed \(insert api_tokens\)\n\s+at /);
    expect(serialized).not.toHaveProperty('params');
    expect(serialized.cause).not.toHaveProperty('detail');
  });

  it('redacts a parameter value that PostgreSQL quotes in its message', () => {
    const error = postgresError(
      { message: `invalid input syntax for type uuid: "${SECRET}"`, severity: 'ERROR', code: '22P02' },
      [SECRET],
    );
    expect(serializeError(error)).toMatchObject({
      code: '22P02',
      message: 'invalid input syntax for type uuid: <redacted>',
    });
  });

  it('leaves other errors as pino would log them, causes and own properties included', () => {
    const error = new DomainError('CONFLICT', 'stale', {
      context: { version: 3 },
      cause: new TypeError('bug'),
    });
    expect(serializeError(error)).toMatchObject({
      type: 'DomainError',
      message: 'stale',
      code: 'CONFLICT',
      context: { version: 3 },
      cause: { type: 'TypeError', message: 'bug' },
    });
    expect(serializeError('plain')).toBe('plain');
    const cyclic = new Error('loop');
    cyclic.cause = cyclic;
    expect(serializeError(cyclic)).toMatchObject({ cause: '[Circular]' });
  });

  it.each([
    ['select "id" from "studies" where "id" = $1', 'select studies'],
    ['update "study_reviews" set "version" = $1', 'update study_reviews'],
    ['delete from "labels" where true', 'delete labels'],
    ['with "m" as (select 1) select * from "cohorts"', 'with cohorts'],
    ['  /* name */ insert into public.audit_events values ($1)', 'insert public.audit_events'],
    ['begin', 'begin'],
  ])('fingerprints %s as %s', (text, query) => {
    expect(queryFingerprint(text).query).toBe(query);
  });
});
