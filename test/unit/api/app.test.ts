import { describe, expect, it } from 'vitest';
import { createApp, type AppDeps } from '../../../src/api/app.js';
import { createLogger } from '../../../src/logging/logger.js';

/** Routes under test here never reach the database or Temporal; integration tests cover those. */
function app(readiness: Partial<AppDeps['readiness']> = {}) {
  return createApp({
    db: {} as AppDeps['db'],
    seriesWorkflows: {} as AppDeps['seriesWorkflows'],
    logger: createLogger('silent'),
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
      checks: { postgres: { ok: true }, temporal: { ok: false, error: 'connection refused' } },
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
        '/api/series/{seriesInstanceUid}/process',
        '/healthz',
        '/readyz',
      ].sort(),
    );
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining(['Error', 'Series', 'Readiness']),
    );
  });
});
