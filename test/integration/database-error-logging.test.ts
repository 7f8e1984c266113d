import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type AppDeps } from '../../src/api/app.js';
import { createUser } from '../../src/db/repositories/users.js';
import { apiTokens } from '../../src/db/schema/index.js';
import { createLogger } from '../../src/logging/logger.js';
import { connectTestServices } from './services.js';

/** A value that stands for a token hash: it may appear in no log line and no response. */
const SECRET = `SECRET-TOKEN-HASH-${randomUUID()}`;

function captureLogger() {
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
  return { logger, text: () => lines.join('') };
}

describe('database errors in logs and responses, on real PostgreSQL', () => {
  let services: Awaited<ReturnType<typeof connectTestServices>>;
  let userId: string;

  beforeAll(async () => {
    services = await connectTestServices();
    const user = await createUser(services.database.db, {
      email: `log-${randomUUID()}@example.org`,
      displayName: 'Log^Test',
      role: 'radiologist',
      institutionCodes: [],
    });
    userId = user.id;
  });

  afterAll(async () => {
    await services?.close();
  });

  /** A unique violation on api_tokens.token_sha256 whose parameter (and PostgreSQL's detail) is SECRET. */
  async function uniqueViolation(): Promise<unknown> {
    const token = { userId, tokenSha256: SECRET, label: 'first' };
    await services.database.db.insert(apiTokens).values(token);
    return services.database.db
      .insert(apiTokens)
      .values({ ...token, label: 'second' })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
  }

  it('logs a unique violation by SQLSTATE, constraint and statement, without SQL or parameters', async () => {
    const error = await uniqueViolation();
    expect(error).toBeInstanceOf(Error);
    // Today's error carries it all: drizzle's message holds the SQL and the values, the cause's detail the key.
    expect(JSON.stringify({ message: (error as Error).message, cause: (error as Error).cause })).toContain(
      SECRET,
    );
    const { logger, text } = captureLogger();
    logger.error({ err: error, requestId: 'r-1' }, 'unhandled error');
    logger.warn({ error }, 'Activity failed'); // the Temporal SDK's key
    const logged = text();
    expect(logged).not.toContain(SECRET);
    expect(logged).not.toMatch(/params:|Failed query|token_sha256"?\)? values|\$2/);
    const [line] = logged
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { err?: unknown });
    expect(line?.err).toMatchObject({
      type: 'DrizzleQueryError',
      code: '23505',
      constraint: 'api_tokens_sha256_key',
      table: 'api_tokens',
      query: 'insert api_tokens',
      cause: {
        type: 'PostgresError',
        code: '23505',
        severity: 'ERROR',
        routine: expect.any(String) as unknown,
      },
    });
  });

  it('answers a request that failed in the database with "internal error" and logs no SQL', async () => {
    const { logger, text } = captureLogger();
    const app = createApp({
      db: services.database.db,
      seriesWorkflows: {} as AppDeps['seriesWorkflows'],
      ingest: {} as AppDeps['ingest'],
      logger,
      readiness: { postgres: () => Promise.resolve(), temporal: () => Promise.resolve() },
      // The token lookup itself fails: an invalid uuid whose value PostgreSQL quotes in its message.
      resolvePrincipal: async (token) => {
        await services.database.db.execute(sql`select ${token}::uuid`);
        return undefined;
      },
    });
    const response = await app.request('/api/me', { headers: { authorization: `Bearer ${SECRET}` } });
    expect(response.status).toBe(500);
    const body = await response.text();
    expect(JSON.parse(body)).toMatchObject({ error: { code: 'INTERNAL', message: 'internal error' } });
    expect(body).not.toMatch(/select|uuid|SECRET|22P02/i);
    const logged = text();
    expect(logged).toContain('"code":"22P02"');
    expect(logged).not.toContain(SECRET);
    expect(logged).not.toMatch(/Failed query|params:|::uuid/);
  });
});
