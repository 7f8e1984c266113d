import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type AppDeps } from '../../src/api/app.js';
import { auditEvents } from '../../src/db/schema/index.js';
import { seedTestAdminToken } from '../fixtures/authorized.js';
import { connectTestServices, testLogger } from './services.js';

describe('token guessing on real PostgreSQL: throttled per address, audited in aggregate', () => {
  let services: Awaited<ReturnType<typeof connectTestServices>>;

  beforeAll(async () => {
    services = await connectTestServices();
  });

  afterAll(async () => {
    await services?.close();
  });

  it('answers 1000 guesses from one address with 10 lookups and 2 audit rows', async () => {
    const db = services.database.db;
    const adminToken = await seedTestAdminToken(db);
    let clock = Date.now();
    const app = createApp({
      db,
      seriesWorkflows: {} as AppDeps['seriesWorkflows'],
      ingest: {} as AppDeps['ingest'],
      logger: testLogger,
      readiness: { postgres: () => Promise.resolve(), temporal: () => Promise.resolve() },
      authFailures: { maxFailures: 10, windowMs: 60_000, now: () => clock },
    });
    const address = `198.51.100.${Math.floor(Math.random() * 200) + 1}`;
    const from = (remoteAddress: string) => ({ incoming: { socket: { remoteAddress } } });
    const statuses = new Map<number, number>();
    const started = performance.now();
    for (let n = 0; n < 1000; n += 1) {
      const response = await app.request(
        '/api/me',
        { headers: { authorization: `Bearer guess-${n}` } },
        from(address),
      );
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `1000 guesses from one address: ${(1000 / seconds).toFixed(0)} answers/s, ${JSON.stringify([...statuses])}`,
    );
    expect(Object.fromEntries(statuses)).toEqual({ 401: 10, 429: 990 });
    // The right token from there is refused too until the window ends; from elsewhere it works.
    const blocked = await app.request(
      '/api/me',
      { headers: { authorization: `Bearer ${adminToken}` } },
      from(address),
    );
    expect(blocked.status).toBe(429);
    const elsewhere = await app.request(
      '/api/me',
      { headers: { authorization: `Bearer ${adminToken}` } },
      from('192.0.2.44'),
    );
    expect(elsewhere.status).toBe(200);

    const rows = () =>
      db
        .select()
        .from(auditEvents)
        .where(and(eq(auditEvents.sourceIp, address), eq(auditEvents.action, 'access.unauthenticated')))
        .orderBy(asc(auditEvents.id));
    expect(await rows()).toHaveLength(1);
    clock += 60_000;
    expect((await app.request('/api/me', {}, from('192.0.2.44'))).status).toBe(401); // ends old windows
    let events = await rows();
    for (let tries = 0; events.length < 2 && tries < 50; tries += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      events = await rows();
    }
    expect(events).toHaveLength(2);
    expect(events.map((e) => e.details)).toEqual([
      expect.objectContaining({ reason: 'the token is unknown, expired or revoked' }),
      expect.objectContaining({ aggregated: true, failures: 10, refused: 991, paths: ['/api/me'] }),
    ]);
  });
});
