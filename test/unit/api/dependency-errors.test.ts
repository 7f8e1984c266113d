import { ServiceError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { createApp, type AppDeps } from '../../../src/api/app.js';
import { unavailableDependency } from '../../../src/api/dependency-errors.js';
import { openDatabase } from '../../../src/db/client.js';
import { createLogger } from '../../../src/logging/logger.js';
import { DomainError } from '../../../src/shared/errors.js';

/** A socket error as postgres.js passes it on: with the failed query attached. */
function postgresJsSocketError(code: string) {
  const error = Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), {
    code,
    syscall: 'connect',
    address: '127.0.0.1',
    port: 5432,
  });
  return Object.defineProperty(error, 'query', { value: 'select 1' });
}

const postgresJsError = (code: string) =>
  Object.assign(new Error(`write ${code} 127.0.0.1:5432`), { code, errno: code, address: '127.0.0.1' });
const serverError = (code: string) =>
  Object.assign(new Error('server says no'), { name: 'PostgresError', code, severity: 'FATAL' });
const grpcError = (code: number) =>
  Object.assign(new Error(`${code} UNAVAILABLE: No connection established`), {
    code,
    details: 'No connection established',
    metadata: {},
  });
const drizzleWrapped = (cause: Error) => new Error('Failed query: select 1\nparams: ', { cause });

describe('unavailableDependency', () => {
  it.each([
    ['ECONNREFUSED of a postgres.js query', postgresJsSocketError('ECONNREFUSED'), 'postgres'],
    [
      'ECONNRESET of a query, wrapped by drizzle',
      drizzleWrapped(postgresJsSocketError('ECONNRESET')),
      'postgres',
    ],
    ['CONNECTION_CLOSED', drizzleWrapped(postgresJsError('CONNECTION_CLOSED')), 'postgres'],
    ['CONNECTION_ENDED', postgresJsError('CONNECTION_ENDED'), 'postgres'],
    ['CONNECTION_DESTROYED', postgresJsError('CONNECTION_DESTROYED'), 'postgres'],
    ['CONNECT_TIMEOUT', postgresJsError('CONNECT_TIMEOUT'), 'postgres'],
    ['57P01 admin shutdown', serverError('57P01'), 'postgres'],
    ['57P02 crash shutdown', drizzleWrapped(serverError('57P02')), 'postgres'],
    ['57P03 cannot connect now', serverError('57P03'), 'postgres'],
    ['08006 connection failure', serverError('08006'), 'postgres'],
    ['53300 too many connections', serverError('53300'), 'postgres'],
    ['gRPC UNAVAILABLE', grpcError(14), 'temporal'],
    [
      'gRPC DEADLINE_EXCEEDED in a ServiceError',
      new ServiceError('failed', { cause: grpcError(4) }),
      'temporal',
    ],
    [
      'ECONNREFUSED of something else (a DICOM peer)',
      Object.assign(new Error('x'), { code: 'ECONNREFUSED' }),
      undefined,
    ],
    ['23505 unique violation', serverError('23505'), undefined],
    ['42P01 undefined table', drizzleWrapped(serverError('42P01')), undefined],
    ['gRPC NOT_FOUND', grpcError(5), undefined],
    ['a DomainError', new DomainError('NOT_FOUND', 'no such study'), undefined],
    ['a string', 'ECONNREFUSED', undefined],
  ])('%s', (_name, error, expected) => {
    expect(unavailableDependency(error)).toBe(expected);
  });

  it('recognises what postgres.js and drizzle really throw when nothing listens', async () => {
    const database = openDatabase('postgres://nobody@127.0.0.1:1/none', { max: 1 });
    try {
      const raw = await database.sql`select 1`.catch((error: unknown) => error);
      const viaDrizzle = await database.db.query.users.findFirst().catch((error: unknown) => error);
      expect(unavailableDependency(raw)).toBe('postgres');
      expect(unavailableDependency(viaDrizzle)).toBe('postgres');
    } finally {
      await database.close();
    }
  });
});

describe('the HTTP edge', () => {
  const app = (failure: Error) =>
    createApp({
      db: {} as AppDeps['db'],
      seriesWorkflows: {} as AppDeps['seriesWorkflows'],
      ingest: {} as AppDeps['ingest'],
      logger: createLogger('silent'),
      resolvePrincipal: () => Promise.reject(failure),
      readiness: { postgres: () => Promise.reject(failure), temporal: () => Promise.resolve() },
    });
  const request = (failure: Error, path: string) =>
    app(failure).request(path, { headers: { authorization: 'Bearer some-token' } });

  it.each([
    ['PostgreSQL', drizzleWrapped(postgresJsError('CONNECTION_CLOSED'))],
    ['Temporal', new ServiceError('failed', { cause: grpcError(14) })],
  ])('answers 503 DEPENDENCY_UNAVAILABLE when %s is down, without its address', async (name, failure) => {
    const response = await request(failure, '/api/me');
    expect(response.status).toBe(503);
    const text = await response.text();
    expect(JSON.parse(text)).toMatchObject({
      error: { code: 'DEPENDENCY_UNAVAILABLE', message: `${name} is unavailable` },
    });
    expect(text).not.toMatch(/127\.0\.0\.1|5432/);
  });

  it('keeps other failures a 500', async () => {
    const response = await request(new Error('bug'), '/api/me');
    expect(response.status).toBe(500);
  });

  it('answers /readyz 503 naming the dependency, without the reason its client gave', async () => {
    const response = await request(postgresJsSocketError('ECONNREFUSED'), '/readyz');
    expect(response.status).toBe(503);
    const text = await response.text();
    expect(JSON.parse(text)).toMatchObject({
      status: 'unavailable',
      checks: { postgres: { ok: false, error: 'PostgreSQL is unavailable' }, temporal: { ok: true } },
    });
    expect(text).not.toMatch(/127\.0\.0\.1|5432|ECONNREFUSED/);
  });
});
