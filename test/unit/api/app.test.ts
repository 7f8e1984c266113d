import { describe, expect, it } from 'vitest';
import { createApp, type AppDeps } from '../../../src/api/app.js';
import { createLogger } from '../../../src/logging/logger.js';
import { authorized } from '../../fixtures/authorized.js';

/** Routes under test here never reach the database or Temporal; integration tests cover those. */
const ADMIN = {
  userId: '00000000-0000-4000-8000-000000000001',
  email: 'admin@nodus.local',
  role: 'admin' as const,
  institutionIds: [],
  tokenId: '00000000-0000-4000-8000-000000000002',
};

function app(readiness: Partial<AppDeps['readiness']> = {}) {
  return authorized(unauthenticatedApp(readiness), 'admin-token');
}

function unauthenticatedApp(readiness: Partial<AppDeps['readiness']> = {}) {
  return createApp({
    db: {} as AppDeps['db'],
    seriesWorkflows: {} as AppDeps['seriesWorkflows'],
    ingest: {} as AppDeps['ingest'],
    logger: createLogger('silent'),
    resolvePrincipal: (token) => Promise.resolve(token === 'admin-token' ? ADMIN : undefined),
    readiness: {
      postgres: readiness.postgres ?? (() => Promise.resolve()),
      temporal: readiness.temporal ?? (() => Promise.resolve()),
    },
  });
}

describe('createApp', () => {
  it('answers /healthz with a request id', async () => {
    const response = await app().request('/healthz');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
    expect(response.headers.get('x-request-id')).toMatch(/\S+/);
  });

  it('keeps a request id sent by the caller', async () => {
    const response = await app().request('/healthz', { headers: { 'X-Request-Id': 'trace-123' } });
    expect(response.headers.get('x-request-id')).toBe('trace-123');
  });

  it('answers /readyz 503 naming the failing dependency', async () => {
    const response = await app({ temporal: () => Promise.reject(new Error('connection refused')) }).request(
      '/readyz',
    );
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({
      status: 'unavailable',
      checks: { postgres: { ok: true }, temporal: { ok: false, error: 'Temporal is unavailable' } },
    });
  });

  it('rejects an invalid SeriesInstanceUID with the error envelope', async () => {
    const response = await app().request('/api/series/not-a-uid');
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: Record<string, unknown> };
    expect(body.error).toMatchObject({
      code: 'VALIDATION_FAILED',
      requestId: response.headers.get('x-request-id'),
    });
    expect(body.error.message).toMatch(/seriesInstanceUid: must be a DICOM UID/);
  });

  it('answers unknown routes with the error envelope', async () => {
    const response = await app().request('/nope');
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });

  it.each([
    ['application/json', 'application/json'],
    ['multipart/form-data', 'multipart/form-data; boundary=x'],
    [
      'a root type other than application/dicom',
      'multipart/related; type="application/dicom+json"; boundary=x',
    ],
  ])('answers STOW-RS with %s as Content-Type 415 with the error envelope', async (_name, contentType) => {
    const response = await app().request('/dicomweb/studies', {
      method: 'POST',
      headers: { 'Content-Type': contentType },
      body: '--x\r\n\r\nbody\r\n--x--',
    });
    expect(response.status).toBe(415);
    expect(await response.json()).toMatchObject({
      error: { code: 'VALIDATION_FAILED', requestId: response.headers.get('x-request-id') },
    });
  });

  it.each([
    ['no boundary', 'multipart/related; type="application/dicom"', '--x\r\n\r\nbody\r\n--x--', /no boundary/],
    [
      'no close delimiter',
      'multipart/related; type=application/dicom; boundary=x',
      '--x\r\n\r\nbody',
      /close delimiter/,
    ],
  ])(
    'answers a STOW-RS request with %s 400 with the error envelope',
    async (_name, contentType, body, message) => {
      const response = await app().request('/dicomweb/studies', {
        method: 'POST',
        headers: { 'Content-Type': contentType },
        body,
      });
      expect(response.status).toBe(400);
      const json = (await response.json()) as { error: { code: string; message: string } };
      expect(json.error.code).toBe('VALIDATION_FAILED');
      expect(json.error.message).toMatch(message);
    },
  );

  it('rejects an invalid StudyInstanceUID in a STOW-RS URL with the error envelope', async () => {
    const response = await app().request('/dicomweb/studies/not-a-uid', {
      method: 'POST',
      headers: { 'Content-Type': 'multipart/related; type="application/dicom"; boundary=x' },
      body: '--x\r\n\r\nbody\r\n--x--',
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('VALIDATION_FAILED');
    expect(body.error.message).toMatch(/studyInstanceUid: must be a DICOM UID/);
  });

  it('publishes an OpenAPI document generated from the route schemas', async () => {
    const response = await app().request('/openapi.json');
    const doc = (await response.json()) as {
      openapi: string;
      paths: Record<string, unknown>;
      components: { schemas: Record<string, unknown> };
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        '/api/series/{seriesInstanceUid}',
        '/api/series/{seriesInstanceUid}/findings',
        '/api/series/{seriesInstanceUid}/process',
        '/api/worklist',
        '/api/studies/{studyId}',
        '/api/studies/{studyId}/review-actions',
        '/api/studies/{studyId}/series/{seriesId}/slices/{k}',
        '/api/studies/{studyId}/series/{seriesId}/slab',
        '/api/studies/{studyId}/nodules/{noduleId}/mask',
        '/api/studies/{studyId}/sr',
        '/api/studies/{studyId}/seg',
        '/api/studies/{studyId}/send',
        '/api/me',
        '/api/session',
        '/api/users',
        '/api/users/{userId}/tokens',
        '/api/tokens/{tokenId}',
        '/api/projects',
        '/api/projects/{projectId}/vocabularies',
        '/api/projects/{projectId}/labels',
        '/api/projects/{projectId}/cohorts/preview',
        '/api/projects/{projectId}/cohorts',
        '/api/cohorts/{cohortId}',
        '/api/cohorts/{cohortId}/snapshots',
        '/api/snapshots/{snapshotId}',
        '/api/snapshots/{snapshotId}/manifest',
        '/api/snapshots/{snapshotId}/archive',
        '/api/snapshots/{snapshotId}/exports',
        '/api/snapshots/{snapshotId}/agreement',
        '/api/studies/{studyId}/shares',
        '/api/shares/{shareId}',
        '/api/studies/{studyId}/second-reads',
        '/api/consortium/members',
        '/api/consortium/members/{institution}',
        '/api/film/open',
        '/api/film',
        '/api/film/links',
        '/api/film/links/{shareId}',
        '/api/film/download',
        '/dicomweb/studies',
        '/dicomweb/studies/{studyInstanceUid}',
        '/dicomweb/studies/{studyInstanceUid}/metadata',
        '/dicomweb/studies/{studyInstanceUid}/thumbnail',
        '/dicomweb/studies/{studyInstanceUid}/series',
        '/dicomweb/studies/{studyInstanceUid}/instances',
        '/dicomweb/studies/{studyInstanceUid}/series/{seriesInstanceUid}',
        '/dicomweb/studies/{studyInstanceUid}/series/{seriesInstanceUid}/metadata',
        '/dicomweb/studies/{studyInstanceUid}/series/{seriesInstanceUid}/thumbnail',
        '/dicomweb/studies/{studyInstanceUid}/series/{seriesInstanceUid}/instances',
        '/dicomweb/studies/{studyInstanceUid}/series/{seriesInstanceUid}/instances/{sopInstanceUid}',
        '/dicomweb/studies/{studyInstanceUid}/series/{seriesInstanceUid}/instances/{sopInstanceUid}/metadata',
        '/dicomweb/studies/{studyInstanceUid}/series/{seriesInstanceUid}/instances/{sopInstanceUid}/thumbnail',
        '/dicomweb/studies/{studyInstanceUid}/series/{seriesInstanceUid}/instances/{sopInstanceUid}/rendered',
        '/dicomweb/studies/{studyInstanceUid}/series/{seriesInstanceUid}/instances/{sopInstanceUid}/frames/{frames}',
        '/dicomweb/studies/{studyInstanceUid}/series/{seriesInstanceUid}/instances/{sopInstanceUid}/frames/{frames}/rendered',
        '/dicomweb/studies/{studyInstanceUid}/series/{seriesInstanceUid}/instances/{sopInstanceUid}/bulkdata/{tag}',
        '/dicomweb/series',
        '/dicomweb/instances',
        '/dicomweb/wado',
        '/wado',
        '/healthz',
        '/readyz',
      ].sort(),
    );
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining([
        'Error',
        'Series',
        'Readiness',
        'StoreInstancesResponse',
        'Finding',
        'SeriesFindings',
        'WorklistItem',
        'ReviewAction',
        'User',
        'CohortDefinition',
        'LabelInput',
      ]),
    );
  });
});

describe('authentication', () => {
  const researcher = {
    ...ADMIN,
    role: 'researcher' as const,
    userId: '00000000-0000-4000-8000-000000000003',
  };
  const withResearcher = () =>
    createApp({
      db: {} as AppDeps['db'],
      seriesWorkflows: {} as AppDeps['seriesWorkflows'],
      ingest: {} as AppDeps['ingest'],
      logger: createLogger('silent'),
      resolvePrincipal: (token) => Promise.resolve(token === 'researcher-token' ? researcher : undefined),
      readiness: { postgres: () => Promise.resolve(), temporal: () => Promise.resolve() },
    });

  it.each(['/healthz', '/readyz'])('serves %s without a token', async (path) => {
    expect((await unauthenticatedApp().request(path)).status).toBe(200);
  });

  it.each([
    ['no Authorization header', undefined],
    ['a token nobody holds', 'Bearer not-a-token'],
    ['another scheme', 'Basic YWRtaW46YWRtaW4='],
  ])('answers %s with 401, the envelope and WWW-Authenticate', async (_name, header) => {
    const response = await unauthenticatedApp().request('/api/me', {
      headers: header === undefined ? {} : { authorization: header },
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await response.json()).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
  });

  it('tells a caller who they are', async () => {
    const response = await app().request('/api/me');
    expect(await response.json()).toMatchObject({ email: 'admin@nodus.local', role: 'admin' });
  });

  it.each([
    ['store instances (STOW-RS)', 'POST', '/dicomweb/studies'],
    ['read identified series', 'GET', '/api/series/1.2.3'],
    ['list users', 'GET', '/api/users'],
  ])('refuses a researcher to %s with 403', async (_name, method, path) => {
    const response = await authorized(withResearcher(), 'researcher-token').request(path, {
      method,
      headers: { 'Content-Type': 'multipart/related; type="application/dicom"; boundary=x' },
      ...(method === 'POST' && { body: '--x--' }),
    });
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error: { code: 'FORBIDDEN' } });
  });
});

describe('brute-force protection of tokens', () => {
  /** A caller's socket address, as @hono/node-server hands it to the app. */
  const from = (remoteAddress: string) => ({ incoming: { socket: { remoteAddress } } });
  const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

  function limitedApp() {
    let clock = 1_700_000_000_000;
    const lookups: string[] = [];
    const audited: Record<string, unknown>[] = [];
    // The audit receiver: what recordAuditEvent inserts (insert -> values -> onConflictDoNothing -> returning).
    const db = {
      insert: () => ({
        values: (row: Record<string, unknown>) => ({
          onConflictDoNothing: () => ({
            returning: () => Promise.resolve([{ id: audited.push(row) }]),
          }),
        }),
      }),
    } as unknown as AppDeps['db'];
    const app = createApp({
      db,
      seriesWorkflows: {} as AppDeps['seriesWorkflows'],
      ingest: {} as AppDeps['ingest'],
      logger: createLogger('silent'),
      resolvePrincipal: (token) => {
        lookups.push(token);
        return Promise.resolve(token === 'admin-token' ? ADMIN : undefined);
      },
      readiness: { postgres: () => Promise.resolve(), temporal: () => Promise.resolve() },
      authFailures: { maxFailures: 10, windowMs: 60_000, now: () => clock },
    });
    return { app, lookups, audited, advance: (ms: number) => (clock += ms) };
  }

  it('answers 429 with Retry-After after 10 bad tokens, without looking the next token up', async () => {
    const { app, lookups } = limitedApp();
    for (let n = 0; n < 10; n += 1) {
      const response = await app.request('/api/me', bearer(`guess-${n}`), from('198.51.100.7'));
      expect(response.status).toBe(401);
    }
    const limited = await app.request('/api/me', bearer('guess-10'), from('198.51.100.7'));
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('60');
    expect(await limited.json()).toMatchObject({ error: { code: 'RATE_LIMITED' } });
    // While blocked, even the right token is refused unread: guessing gains nothing.
    const right = await app.request('/api/me', bearer('admin-token'), from('198.51.100.7'));
    expect(right.status).toBe(429);
    expect(lookups).toHaveLength(10);
    // The probes need no token and stay open.
    expect((await app.request('/healthz', {}, from('198.51.100.7'))).status).toBe(200);
  });

  it('leaves another address unaffected and lets the blocked one in again when its window ends', async () => {
    const { app, advance } = limitedApp();
    for (let n = 0; n < 11; n += 1) await app.request('/api/me', bearer(`guess-${n}`), from('198.51.100.7'));
    expect((await app.request('/api/me', bearer('admin-token'), from('203.0.113.9'))).status).toBe(200);
    expect((await app.request('/api/me', bearer('wrong'), from('203.0.113.9'))).status).toBe(401);
    advance(30_000);
    const later = await app.request('/api/me', bearer('admin-token'), from('198.51.100.7'));
    expect(later.headers.get('retry-after')).toBe('30');
    advance(30_000);
    expect((await app.request('/api/me', bearer('admin-token'), from('198.51.100.7'))).status).toBe(200);
  });

  it('audits the first failure of a window by itself and the rest in one summary, not one row per try', async () => {
    const { app, audited, advance } = limitedApp();
    for (let n = 0; n < 1000; n += 1)
      await app.request('/api/me', bearer(`guess-${n}`), from('198.51.100.7'));
    expect(audited).toHaveLength(1);
    expect(audited[0]).toMatchObject({
      action: 'access.unauthenticated',
      sourceIp: '198.51.100.7',
      details: { reason: 'the token is unknown, expired or revoked' },
    });
    advance(60_000);
    await app.request('/api/me', bearer('admin-token'), from('203.0.113.9')); // any request ends old windows
    await new Promise((resolve) => setImmediate(resolve));
    expect(audited).toHaveLength(2);
    expect(audited[1]).toMatchObject({
      action: 'access.unauthenticated',
      resourceId: '*',
      sourceIp: '198.51.100.7',
      details: { aggregated: true, failures: 10, refused: 990, paths: ['/api/me'], windowMs: 60_000 },
    });
  });
});
